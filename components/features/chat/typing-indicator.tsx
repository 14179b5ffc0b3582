export function TypingIndicator() {
  return (
    <span
      data-testid="typing-indicator"
      role="status"
      aria-label="Assistant is typing"
      className="inline-flex items-center gap-1 py-2"
    >
      {[0, 1, 2].map((i) => (
        <span
          key={i}
          className="typing-dot size-1.5 rounded-full bg-muted-foreground"
          style={{ animationDelay: `${i * 0.16}s` }}
        />
      ))}
    </span>
  );
}
