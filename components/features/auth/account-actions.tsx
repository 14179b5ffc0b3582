"use client";

import { useAuthActions } from "@convex-dev/auth/react";
import { useQuery } from "convex/react";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { LogOutIcon } from "@/components/ui/icons";
import { Modal } from "@/components/ui/modal";
import { api } from "@/convex/_generated/api";
import {
  emailProblem,
  MIN_PASSWORD_LENGTH,
  normalizeEmail,
  passwordLengthProblem,
} from "@/lib/credentials";
import { errorMessage } from "@/lib/errors";
import { clearStoredHighlights } from "@/lib/highlight/stored-highlights";

function chats(count: number, more: boolean) {
  if (more) return `your ${count.toLocaleString("en-US")}+ chats`;
  return count === 1 ? "your chat" : `your ${count.toLocaleString("en-US")} chats`;
}

/**
 * Who is signed in and how to leave, at the foot of the sidebar. A guest is told what signing out
 * loses before it happens and can turn the session into an account that keeps every chat; an
 * account shows its email and signs out at once.
 */
export function AccountActions({
  chatCount,
  moreChats = false,
}: {
  chatCount: number;
  /** The sidebar has not loaded every chat: chatCount is a lower bound. */
  moreChats?: boolean;
}) {
  const viewer = useQuery(api.account.viewer, {});
  const { signOut } = useAuthActions();
  const router = useRouter();
  const [warning, setWarning] = useState(false);
  const [creating, setCreating] = useState(false);
  const guest = viewer?.kind === "guest" ? viewer : null;

  const leave = () => {
    void clearStoredHighlights();
    void signOut().then(() => router.replace("/sign-in"));
  };

  return (
    <>
      {guest ? (
        <div className="mb-1 px-2 pt-1 text-xs text-muted-foreground" data-testid="guest-note">
          <p>You are a guest: create an account to keep your chats after signing out.</p>
          <Button
            variant="secondary"
            size="sm"
            data-testid="create-account-button"
            className="mt-2 w-full"
            onClick={() => setCreating(true)}
          >
            Create an account
          </Button>
        </div>
      ) : viewer?.kind === "account" && viewer.email ? (
        <p
          data-testid="account-email"
          className="truncate px-2 pt-1 text-xs text-muted-foreground"
          title={viewer.email}
        >
          {viewer.email}
        </p>
      ) : null}
      <Button
        variant="ghost"
        size="sm"
        data-testid="sign-out-button"
        className="w-full justify-start text-muted-foreground"
        onClick={() => (guest ? setWarning(true) : leave())}
      >
        <LogOutIcon /> Sign out
      </Button>

      <Modal
        open={warning}
        onClose={() => setWarning(false)}
        data-testid="sign-out-warning"
        aria-label="Sign out of the guest session?"
        className="w-[min(26rem,calc(100vw-2rem))]"
      >
        <h2 className="text-base font-semibold">Sign out of the guest session?</h2>
        <p className="mt-2 text-sm text-muted-foreground" data-testid="sign-out-loss">
          {chatCount === 0
            ? "A guest cannot sign back in: this guest session and its settings end for good."
            : `You will lose ${chats(chatCount, moreChats)}: a guest cannot sign back in, so nobody can open them again, and they are deleted after ${guest?.retentionDays ?? 30} days. Create an account to keep them.`}
        </p>
        <div className="mt-5 flex flex-wrap justify-end gap-2">
          <Button variant="secondary" size="sm" onClick={() => setWarning(false)}>
            Cancel
          </Button>
          <Button
            variant="secondary"
            size="sm"
            data-testid="create-account-instead"
            onClick={() => {
              setWarning(false);
              setCreating(true);
            }}
          >
            Create an account
          </Button>
          <Button variant="danger" size="sm" data-testid="confirm-sign-out" onClick={leave}>
            {chatCount === 0 ? "Sign out" : "Sign out and lose them"}
          </Button>
        </div>
      </Modal>

      <CreateAccountDialog
        open={creating}
        chatCount={chatCount}
        moreChats={moreChats}
        onClose={() => setCreating(false)}
      />
    </>
  );
}

/** Email + password for a guest: the guest's user becomes the account's (convex/auth.ts). */
function CreateAccountDialog({
  open,
  chatCount,
  moreChats,
  onClose,
}: {
  open: boolean;
  chatCount: number;
  moreChats: boolean;
  onClose: () => void;
}) {
  const { signIn } = useAuthActions();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = normalizeEmail(String(form.get("email") ?? ""));
    const password = String(form.get("password") ?? "");
    // The server checks the same rules (lib/credentials.ts); checking here saves a trip.
    const problem = emailProblem(email) ?? passwordLengthProblem(password);
    if (problem !== null) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn("password", { email, password, flow: "signUp", upgradeGuest: "true" });
    } catch (e) {
      setError(
        errorMessage(e, "Could not create the account. Check your connection and try again."),
      );
      setBusy(false);
      return;
    }
    // The same user with a new session: the guest's token stopped working, and the page's Convex
    // client takes the new one only from a fresh start (the sign-in state it follows did not
    // change). A reload keeps the page, the chats and the message queue.
    window.location.reload();
  }

  return (
    <Modal
      open={open}
      onClose={onClose}
      data-testid="create-account-dialog"
      aria-label="Create an account"
      className="w-[min(26rem,calc(100vw-2rem))]"
    >
      <h2 className="text-base font-semibold">Create an account</h2>
      <p className="mt-2 text-sm text-muted-foreground">
        {chatCount === 0
          ? "Your settings stay yours; sign in with this email and password from any browser."
          : `${chats(chatCount, moreChats)[0]!.toUpperCase()}${chats(chatCount, moreChats).slice(1)}, settings and share links stay yours; sign in with this email and password from any browser.`}
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate className="mt-4 flex flex-col gap-3">
        <label className="flex flex-col gap-1.5 text-sm font-medium">
          Email
          <input
            name="email"
            type="email"
            autoComplete="email"
            data-testid="upgrade-email"
            className="h-10 rounded-lg border border-input bg-background px-3 font-normal outline-none focus:border-neutral-400 focus:ring-2 focus:ring-blue-500/30"
          />
        </label>
        <label className="flex flex-col gap-1.5 text-sm font-medium">
          Password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            data-testid="upgrade-password"
            className="h-10 rounded-lg border border-input bg-background px-3 font-normal outline-none focus:border-neutral-400 focus:ring-2 focus:ring-blue-500/30"
          />
          <span className="text-xs font-normal text-muted-foreground">
            At least {MIN_PASSWORD_LENGTH} characters, and not a common password.
          </span>
        </label>
        {error && (
          <p
            role="alert"
            data-testid="upgrade-error"
            className="text-sm text-red-600 dark:text-red-400"
          >
            {error}
          </p>
        )}
        <div className="mt-2 flex justify-end gap-2">
          <Button variant="secondary" size="sm" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" size="sm" data-testid="upgrade-submit" disabled={busy}>
            {busy ? "Creating…" : "Create account"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
