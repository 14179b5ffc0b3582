export default function HomePage() {
  return (
    <main className="mx-auto flex min-h-dvh max-w-xl flex-col justify-center gap-4 p-6">
      <h1 className="text-2xl font-semibold">Streaming chat</h1>
      <p className="text-neutral-600 dark:text-neutral-400">
        Replies stream from Azure OpenAI through Convex, token by token.
      </p>
    </main>
  );
}
