// A tiny Markdown reader for briefs: headings, paragraphs, lists, bold, italics, code.
// It returns plain data; the view turns it into DOM with textContent, so model output
// can never become markup.

const INLINE = /(\*\*[^*]+\*\*|__[^_]+__|\*[^*\s][^*]*\*|`[^`]+`|\[[^\]]+\]\([^)]*\))/g;

function inline(text) {
  const spans = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) spans.push({ text: text.slice(last, match.index) });
    const token = match[0];
    if (token.startsWith("**") || token.startsWith("__")) {
      spans.push({ text: token.slice(2, -2), strong: true });
    } else if (token.startsWith("`")) {
      spans.push({ text: token.slice(1, -1), code: true });
    } else if (token.startsWith("[")) {
      spans.push({ text: token.slice(1, token.indexOf("]")) });
    } else {
      spans.push({ text: token.slice(1, -1), em: true });
    }
    last = match.index + token.length;
  }
  if (last < text.length) spans.push({ text: text.slice(last) });
  return spans;
}

/** Blocks: {type: "h1"|"h2"|"h3"|"p", spans} or {type: "ul"|"ol", items: [spans]}. */
export function parse(markdown) {
  const blocks = [];
  let paragraph = [];
  let list = null;
  const flushParagraph = () => {
    if (paragraph.length) blocks.push({ type: "p", spans: inline(paragraph.join(" ")) });
    paragraph = [];
  };
  const flushList = () => {
    if (list) blocks.push(list);
    list = null;
  };
  for (const raw of markdown.split("\n")) {
    const line = raw.trim();
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    const bullet = line.match(/^[-*+•]\s+(.*)$/);
    const numbered = line.match(/^\d+[.)]\s+(.*)$/);
    if (!line) {
      flushParagraph();
      flushList();
    } else if (heading) {
      flushParagraph();
      flushList();
      blocks.push({ type: `h${Math.min(heading[1].length, 3)}`, spans: inline(heading[2]) });
    } else if (bullet || numbered) {
      flushParagraph();
      const type = bullet ? "ul" : "ol";
      if (!list || list.type !== type) {
        flushList();
        list = { type, items: [] };
      }
      list.items.push(inline((bullet || numbered)[1]));
    } else {
      flushList();
      paragraph.push(line);
    }
  }
  flushParagraph();
  flushList();
  return blocks;
}
