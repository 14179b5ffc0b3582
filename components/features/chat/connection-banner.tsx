"use client";

import { useConnectionLost } from "@/components/hooks/use-connection-lost";

/**
 * Says so while the backend is unreachable. The status region is always in the page (empty when
 * connected) so screen readers announce the change when the text appears.
 */
export function ConnectionBanner() {
  const lost = useConnectionLost();
  return (
    <div role="status" aria-live="polite" className="shrink-0">
      {lost && (
        <p
          data-testid="connection-banner"
          className="border-b border-amber-300 bg-amber-50 px-4 py-2 text-center text-sm text-amber-900 dark:border-amber-500/40 dark:bg-amber-950 dark:text-amber-100"
        >
          Connection lost. Reconnecting… Messages you send now are kept and delivered when it
          returns.
        </p>
      )}
    </div>
  );
}
