/**
 * The reply scenario 4 streams: rich markdown as a model writes it (prose, lists, tables, inline and
 * display math, code in several languages, one long code block), as long as one user message can
 * ask the simulator to echo (`[[sim echo]]`, under the 32,000-character message limit).
 */

const CODE: Record<string, string[]> = {
  ts: [
    "export async function fetchWithRetry(url: string, attempts = 3): Promise<Response> {",
    "  let lastError: unknown;",
    "  for (let attempt = 0; attempt < attempts; attempt++) {",
    "    try {",
    "      const response = await fetch(url, { headers: { accept: 'application/json' } });",
    "      if (response.ok) return response;",
    "      lastError = new Error(`HTTP ${response.status}`);",
    "    } catch (error) {",
    "      lastError = error;",
    "    }",
    "    await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 100));",
    "  }",
    "  throw lastError;",
    "}",
  ],
  python: [
    "from dataclasses import dataclass, field",
    "",
    "@dataclass",
    "class LruCache:",
    "    capacity: int = 128",
    "    items: dict[str, bytes] = field(default_factory=dict)",
    "",
    "    def get(self, key: str) -> bytes | None:",
    "        value = self.items.pop(key, None)",
    "        if value is not None:",
    "            self.items[key] = value  # most recent last",
    "        return value",
    "",
    "    def put(self, key: str, value: bytes) -> None:",
    "        self.items.pop(key, None)",
    "        self.items[key] = value",
    "        while len(self.items) > self.capacity:",
    "            self.items.pop(next(iter(self.items)))",
  ],
  rust: [
    "use std::collections::HashMap;",
    "",
    "pub struct Counter {",
    "    counts: HashMap<String, u64>,",
    "}",
    "",
    "impl Counter {",
    "    pub fn add(&mut self, word: &str) -> u64 {",
    "        let count = self.counts.entry(word.to_lowercase()).or_insert(0);",
    "        *count += 1;",
    "        *count",
    "    }",
    "}",
  ],
  sql: [
    "SELECT s.id, s.title, COUNT(m.id) AS messages, MAX(m.created_at) AS last_activity",
    "FROM sessions AS s",
    "LEFT JOIN messages AS m ON m.session_id = s.id",
    "WHERE s.owner_id = $1 AND s.deleted_at IS NULL",
    "GROUP BY s.id, s.title",
    "ORDER BY last_activity DESC NULLS LAST",
    "LIMIT 50;",
  ],
  bash: [
    "#!/usr/bin/env bash",
    "set -euo pipefail",
    'for file in "$@"; do',
    '  if [[ -f "$file" ]]; then',
    '    gzip --keep --best "$file" && echo "compressed $file"',
    "  else",
    '    echo "skipping $file" >&2',
    "  fi",
    "done",
  ],
  go: [
    "func worker(ctx context.Context, jobs <-chan Job, results chan<- Result) {",
    "\tfor {",
    "\t\tselect {",
    "\t\tcase <-ctx.Done():",
    "\t\t\treturn",
    "\t\tcase job := <-jobs:",
    "\t\t\tresults <- job.Run()",
    "\t\t}",
    "\t}",
    "}",
  ],
};

const MATH = [
  [
    "hit ratio $h = \\frac{hits}{hits + misses}$",
    "T = h \\cdot t_{cache} + (1 - h) \\cdot t_{origin}",
  ],
  ["backoff \\(t_k = t_0 \\cdot 2^k\\)", "\\sum_{k=0}^{n-1} t_0 2^k = t_0 (2^n - 1)"],
  ["load $\\rho = \\lambda / \\mu$", "W = \\frac{1}{\\mu - \\lambda}, \\qquad L = \\lambda W"],
];

const PROSE =
  "A cache sits between a client and a slower source and keeps recent answers close to where they are needed. " +
  "Its value depends on how often the same question comes back, how large the answers are, and how stale an answer may be before it is wrong. " +
  "Measure before tuning: the hit ratio, the latency of a hit and of a miss, and the memory the entries take tell you where the time goes.";

/** Deterministic markdown of about `chars` characters (section by section, never more). */
export function renderReplyMarkdown(chars = 31_000): string {
  const languages = Object.keys(CODE);
  const sections: string[] = [];
  let length = 0;
  for (let i = 0; ; i++) {
    const language = languages[i % languages.length]!;
    const [inline, display] = MATH[i % MATH.length]!;
    const lines = CODE[language]!;
    // One long block (the largest a reply here has) in the third section.
    const code = i === 2 ? Array.from({ length: 12 }, () => lines).flat() : lines;
    const section = [
      `## ${i + 1}. Part ${i + 1}: ${language}`,
      "",
      `${PROSE} Here the ${inline} matters most, so **watch it** and _write it down_.`,
      "",
      `- measure the **${language}** path first`,
      `- then compare with [the reference](https://example.com/${i})`,
      "  - nested detail one",
      "  - nested detail two",
      "",
      "| metric | before | after |",
      "| --- | --- | --- |",
      `| p50 | ${10 + i} ms | ${5 + i} ms |`,
      `| p95 | ${40 + i} ms | ${20 + i} ms |`,
      "",
      "```" + language,
      ...code,
      "```",
      "",
      "$$",
      display,
      "$$",
      "",
    ].join("\n");
    if (length + section.length > chars) break;
    sections.push(section);
    length += section.length;
  }
  return sections.join("\n");
}
