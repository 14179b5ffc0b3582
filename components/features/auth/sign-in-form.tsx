"use client";

import { useAuthActions } from "@convex-dev/auth/react";
import { useConvexAuth } from "convex/react";
import { useRouter } from "next/navigation";
import { useEffect, useId, useState, type FormEvent, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import {
  emailProblem,
  MIN_PASSWORD_LENGTH,
  normalizeEmail,
  passwordLengthProblem,
} from "@/lib/credentials";
import { errorMessage } from "@/lib/errors";
import { cn } from "@/lib/utils";

type Flow = "signIn" | "signUp";

/** What is wrong with each field, all at once, and the server's refusal of the whole form. */
type Problems = { email?: string; password?: string; form?: string };

const BROWSER_ID_KEY = "chat.browserId";

/**
 * A random id this browser keeps, sent with password sign-ins: a browser that signed in to an
 * account before keeps its own attempts when a stranger exhausts the email's (convex/auth.ts).
 */
function browserId(): string {
  try {
    let id = localStorage.getItem(BROWSER_ID_KEY);
    if (id === null) {
      id = crypto.randomUUID();
      localStorage.setItem(BROWSER_ID_KEY, id);
    }
    return id;
  } catch {
    return ""; // storage blocked: attempts are counted with every other browser's
  }
}

export function SignInForm() {
  const { signIn } = useAuthActions();
  const { isAuthenticated } = useConvexAuth();
  const router = useRouter();
  const [flow, setFlow] = useState<Flow>("signIn");
  const [problems, setProblems] = useState<Problems>({});
  const setError = (form: string | null) => setProblems(form === null ? {} : { form });
  const [busy, setBusy] = useState<"guest" | "password" | null>(null);

  useEffect(() => {
    if (isAuthenticated) router.replace("/");
  }, [isAuthenticated, router]);

  async function continueAsGuest() {
    setBusy("guest");
    setError(null);
    try {
      await signIn("anonymous");
    } catch (e) {
      setError(
        errorMessage(e, "Could not start a guest session. Check your connection and try again."),
      );
      setBusy(null);
    }
  }

  async function submitPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    // The server checks the same rules (lib/credentials.ts); checking here saves a trip.
    const email = normalizeEmail(String(form.get("email") ?? ""));
    const password = String(form.get("password") ?? "");
    const fields: Problems = {};
    const emailIssue = emailProblem(email);
    const passwordIssue =
      (flow === "signUp" ? passwordLengthProblem(password) : null) ??
      (password.length === 0 ? "Enter your password." : null);
    if (emailIssue !== null) fields.email = emailIssue;
    if (passwordIssue !== null) fields.password = passwordIssue;
    if (emailIssue !== null || passwordIssue !== null) {
      setProblems(fields);
      // The first field to fix gets the focus, as a screen reader user expects.
      const first = emailIssue !== null ? "email" : "password";
      event.currentTarget.querySelector<HTMLInputElement>(`[name="${first}"]`)?.focus();
      return;
    }
    form.set("email", email);
    form.set("flow", flow);
    form.set("browserId", browserId());
    setBusy("password");
    setError(null);
    try {
      await signIn("password", form);
    } catch (e) {
      setError(errorMessage(e, "Could not sign in. Check your connection and try again."));
      setBusy(null);
    }
  }

  return (
    <div className="w-full max-w-sm">
      <div className="mb-8 text-center">
        <div className="mx-auto mb-4 flex size-11 items-center justify-center rounded-xl bg-primary text-lg font-semibold text-primary-foreground">
          C
        </div>
        <h1 className="text-xl font-semibold tracking-tight">Welcome to Chat</h1>
        <p className="mt-1 text-sm text-muted-foreground">Replies stream in as they are written.</p>
      </div>

      <Button
        data-testid="guest-sign-in"
        className="w-full"
        onClick={() => void continueAsGuest()}
        disabled={busy !== null}
      >
        {busy === "guest" ? "Starting…" : "Continue as guest"}
      </Button>

      <div className="my-6 flex items-center gap-3 text-xs text-muted-foreground">
        <span className="h-px flex-1 bg-border" />
        or use an account
        <span className="h-px flex-1 bg-border" />
      </div>

      <div role="tablist" className="mb-4 grid grid-cols-2 rounded-lg bg-muted p-1 text-sm">
        {(["signIn", "signUp"] as const).map((value) => (
          <button
            key={value}
            type="button"
            role="tab"
            aria-selected={flow === value}
            data-testid={value === "signIn" ? "sign-in-tab" : "sign-up-tab"}
            onClick={() => {
              setFlow(value);
              setError(null);
            }}
            className={cn(
              "cursor-pointer rounded-md py-1.5 font-medium transition-colors focus-visible:outline-2 focus-visible:outline-blue-500",
              flow === value ? "bg-background shadow-sm" : "text-muted-foreground",
            )}
          >
            {value === "signIn" ? "Sign in" : "Create account"}
          </button>
        ))}
      </div>

      <form onSubmit={(e) => void submitPassword(e)} noValidate className="flex flex-col gap-3">
        <Field label="Email" problem={problems.email} testId="email-error">
          {(described) => (
            <input
              name="email"
              type="email"
              autoComplete="email"
              data-testid="email-input"
              {...described}
              className={inputClass}
            />
          )}
        </Field>
        <Field
          label="Password"
          problem={problems.password}
          testId="password-error"
          hint={
            flow === "signUp" ? (
              <span data-testid="password-hint">
                At least {MIN_PASSWORD_LENGTH} characters, and not a common password.
              </span>
            ) : undefined
          }
        >
          {(described) => (
            <input
              name="password"
              type="password"
              autoComplete={flow === "signIn" ? "current-password" : "new-password"}
              data-testid="password-input"
              {...described}
              className={inputClass}
            />
          )}
        </Field>
        {problems.form && (
          <p
            role="alert"
            data-testid="auth-error"
            className="text-sm text-red-600 dark:text-red-400"
          >
            {problems.form}
          </p>
        )}
        <Button
          type="submit"
          variant="secondary"
          data-testid="password-submit"
          disabled={busy !== null}
        >
          {busy === "password" ? "One moment…" : flow === "signIn" ? "Sign in" : "Create account"}
        </Button>
      </form>
    </div>
  );
}

const inputClass =
  "h-10 rounded-lg border border-input bg-background px-3 font-normal outline-none focus:border-neutral-400 focus:ring-2 focus:ring-blue-500/30 aria-invalid:border-red-500";

/** A labelled input with its hint and its own error, tied to it for screen readers. */
function Field({
  label,
  problem,
  hint,
  testId,
  children,
}: {
  label: string;
  problem: string | undefined;
  hint?: ReactNode;
  testId: string;
  children: (described: {
    "aria-invalid": boolean;
    "aria-describedby": string | undefined;
  }) => ReactNode;
}) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, problem && `${id}-error`].filter(Boolean).join(" ");
  return (
    <label className="flex flex-col gap-1.5 text-sm font-medium">
      {label}
      {children({
        "aria-invalid": problem !== undefined,
        "aria-describedby": describedBy || undefined,
      })}
      {hint && (
        <span id={`${id}-hint`} className="text-xs font-normal text-muted-foreground">
          {hint}
        </span>
      )}
      {problem && (
        <span
          id={`${id}-error`}
          role="alert"
          data-testid={testId}
          className="text-xs font-normal text-red-600 dark:text-red-400"
        >
          {problem}
        </span>
      )}
    </label>
  );
}
