"use client";

import { useId, useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { CheckIcon, ChevronRightIcon, CloseIcon, WrenchIcon } from "@/components/ui/icons";
import type { ReplyPart } from "@/lib/reply-parts";
import { approvalLabel, shownArguments, toolStepLabel } from "@/lib/tool-calls";
import { cn } from "@/lib/utils";

type ToolPart = Extract<ReplyPart, { kind: "tool" | "approval" }>;

/**
 * A reply's MCP tool calls and approval requests, one folded step each, above its answer: the
 * step names the tool and its state ("Calling roll_dice…", "Called roll_dice", "roll_dice
 * failed"); opened, it shows the arguments and the result or error. A request the reply waits for
 * is open, with Approve and Deny (`onAnswer`, set only while the reply waits).
 */
export function ToolSteps({
  parts,
  onAnswer,
}: {
  parts: readonly ReplyPart[];
  onAnswer?: (approvalId: string, approve: boolean) => Promise<string | null>;
}) {
  const steps = parts.filter(
    (part): part is ToolPart => part.kind === "tool" || part.kind === "approval",
  );
  if (steps.length === 0) return null;
  return (
    <ul data-testid="tool-steps" className="flex flex-col gap-1 text-sm text-muted-foreground">
      {steps.map((step, i) =>
        step.kind === "tool" ? (
          <ToolStep key={i} step={step} />
        ) : (
          <ApprovalStep
            key={i}
            step={step}
            onAnswer={step.decision === undefined ? onAnswer : undefined}
          />
        ),
      )}
    </ul>
  );
}

function ToolStep({ step }: { step: Extract<ToolPart, { kind: "tool" }> }) {
  const result =
    step.error !== undefined ? (
      <Block label="Error" text={step.error} />
    ) : step.output !== undefined ? (
      <Block label="Result" text={step.output} />
    ) : null;
  return (
    <Fold
      testId="tool-step"
      state={step.status}
      label={toolStepLabel(step)}
      server={step.server}
      running={step.status === "calling"}
      warn={step.status === "failed" || step.status === "incomplete"}
    >
      <Block label="Arguments" text={shownArguments(step.arguments)} />
      {result}
    </Fold>
  );
}

function ApprovalStep({
  step,
  onAnswer,
}: {
  step: Extract<ToolPart, { kind: "approval" }>;
  onAnswer: ((approvalId: string, approve: boolean) => Promise<string | null>) | undefined;
}) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const answer = async (approve: boolean) => {
    if (busy || onAnswer === undefined) return;
    setBusy(true);
    setProblem(await onAnswer(step.id, approve));
    setBusy(false);
  };
  return (
    <Fold
      testId="approval-step"
      state={step.decision ?? "waiting"}
      label={approvalLabel(step)}
      server={step.server}
      warn={step.decision === "denied"}
      initiallyOpen={onAnswer !== undefined}
      footer={
        onAnswer === undefined ? null : (
          <div className="flex flex-col gap-1.5 pl-5">
            <p data-testid="approval-prompt" className="text-foreground">
              The reply waits for you: run <strong>{step.name}</strong> on{" "}
              <strong>{step.server}</strong> with these arguments?
            </p>
            <div role="group" aria-label={`Approve or deny ${step.name}`} className="flex gap-2">
              <Button
                data-testid="approve-button"
                size="sm"
                disabled={busy}
                onClick={() => void answer(true)}
              >
                <CheckIcon className="size-3.5" /> Approve
              </Button>
              <Button
                data-testid="deny-button"
                size="sm"
                variant="secondary"
                disabled={busy}
                onClick={() => void answer(false)}
              >
                <CloseIcon className="size-3.5" /> Deny
              </Button>
            </div>
            {problem && (
              <p role="alert" className="text-red-600 dark:text-red-400">
                {problem}
              </p>
            )}
          </div>
        )
      }
    >
      <Block label="Arguments" text={shownArguments(step.arguments)} />
    </Fold>
  );
}

/** One step: a button that opens and folds its details (keyboard: Tab, then Enter or Space). */
function Fold({
  testId,
  state,
  label,
  server,
  running = false,
  warn = false,
  initiallyOpen = false,
  footer = null,
  children,
}: {
  testId: string;
  state: string;
  label: string;
  server: string;
  running?: boolean;
  warn?: boolean;
  initiallyOpen?: boolean;
  footer?: ReactNode;
  children: ReactNode;
}) {
  const [open, setOpen] = useState(initiallyOpen);
  const id = useId();
  return (
    <li data-testid={testId} data-state={state} className="flex flex-col gap-1.5">
      <button
        type="button"
        data-testid={`${testId}-toggle`}
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
        className={cn(
          "-ml-1 inline-flex w-fit max-w-full min-w-0 cursor-pointer items-center gap-1.5 rounded px-1 py-0.5 hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500",
          warn && "text-amber-700 dark:text-amber-400",
        )}
      >
        <WrenchIcon className="size-3.5 shrink-0" />
        <span className={cn("truncate", running && "thinking-shimmer")}>{label}</span>
        {server !== "" && <span className="shrink-0 text-xs">({server})</span>}
        <ChevronRightIcon
          className={cn("size-3.5 shrink-0 transition-transform", open && "rotate-90")}
        />
      </button>
      {open && (
        <div id={id} data-testid={`${testId}-details`} className="flex flex-col gap-1.5 pl-5">
          {children}
        </div>
      )}
      {footer}
    </li>
  );
}

function Block({ label, text }: { label: string; text: string }) {
  return (
    <div className="flex flex-col gap-0.5">
      <span className="text-xs font-medium">{label}</span>
      {/* Focusable: a long result scrolls, and the keyboard must reach it. */}
      <pre
        tabIndex={0}
        className="max-h-64 overflow-auto rounded bg-muted px-2 py-1.5 text-xs whitespace-pre-wrap text-foreground"
      >
        {text}
      </pre>
    </div>
  );
}
