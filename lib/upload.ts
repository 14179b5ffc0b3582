import { attachmentKind } from "./chat-limits";

/**
 * POSTs `file` to the deployment's upload route (`POST /attachments` on the HTTP actions origin,
 * convex/lib/attachmentRoutes.ts) with the user's token, reporting progress (0 to 1) as the bytes
 * go out (fetch cannot report upload progress, XMLHttpRequest can); resolves to the attachment id
 * it answers, or rejects with the route's refusal (its message says why, and when to retry).
 */
export function uploadFile(
  { siteUrl, token }: { siteUrl: string; token: string },
  file: File,
  signal: AbortSignal,
  onProgress: (fraction: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    const failed = (message = `"${file.name}" could not be uploaded. Remove it and try again.`) =>
      reject(new Error(message));
    request.open("POST", `${siteUrl}/attachments?name=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("Authorization", `Bearer ${token}`);
    // A document goes with the type its name gives (browsers give .md or .ts none, or a wrong one).
    request.setRequestHeader("Content-Type", attachmentKind(file)?.contentType ?? file.type);
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const body = request.response as { attachmentId?: unknown; message?: unknown } | null;
      if (request.status >= 200 && request.status < 300 && typeof body?.attachmentId === "string") {
        resolve(body.attachmentId);
      } else failed(typeof body?.message === "string" ? body.message : undefined);
    };
    request.onerror = () => failed();
    request.onabort = () => failed();
    signal.addEventListener("abort", () => request.abort(), { once: true });
    request.send(file);
  });
}
