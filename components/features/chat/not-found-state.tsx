import Link from "next/link";

export function NotFoundState({
  title = "Chat not found",
  detail = "This chat does not exist, or it belongs to someone else.",
  heading: Heading = "h2",
}: {
  title?: string;
  detail?: string;
  /** `h1` where nothing else heads the page. */
  heading?: "h1" | "h2";
}) {
  return (
    <div
      data-testid="not-found"
      className="flex flex-1 flex-col items-center justify-center px-6 py-24 text-center"
    >
      <Heading className="text-lg font-semibold">{title}</Heading>
      <p className="mt-1.5 max-w-sm text-sm text-muted-foreground">{detail}</p>
      <Link
        href="/"
        className="mt-5 rounded-lg border border-border px-3 py-1.5 text-sm font-medium hover:bg-muted focus-visible:outline-2 focus-visible:outline-blue-500"
      >
        Start a new chat
      </Link>
    </div>
  );
}
