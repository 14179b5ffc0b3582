import { splitMarkdownBlocks, streamingPrefix, type BlockSplit } from "@/lib/markdown-blocks";
import { renderReplyMarkdown } from "@/bench/scenarios/render-reply";
const full = renderReplyMarkdown();
let seed = Number(process.argv[2] ?? 1);
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
let split: BlockSplit | undefined;
let n = 0;
let prevText = "";
while (true) {
  n = Math.min(full.length, n + 2 * (1 + Math.floor(rnd() * 60)));
  const last = n >= full.length;
  const text = last ? full : streamingPrefix(full.slice(0, n));
  const before = split;
  split = splitMarkdownBlocks(text, split);
  if (before) {
    let changed = 0;
    split.blocks.forEach((b, i) => { if (i < split!.blocks.length - 1 && before.blocks[i] !== b) changed++; });
    if (changed > 3) {
      console.log(`n=${n} last=${last} changed=${changed} blocks ${before.blocks.length}->${split.blocks.length} startsWith=${text.startsWith(prevText)}`);
      const i = split.blocks.findIndex((b, i) => before.blocks[i] !== b);
      console.log("  first diff", i, JSON.stringify(before.blocks[i]?.slice(0, 80)), "=>", JSON.stringify(split.blocks[i]?.slice(0, 80)));
      console.log("  prev text tail", JSON.stringify(prevText.slice(-60)), " new tail", JSON.stringify(text.slice(prevText.length - 5, prevText.length + 40)));
    }
  }
  prevText = text;
  if (last) break;
}
