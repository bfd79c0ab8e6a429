// Conversations and briefs as files people can take elsewhere: Markdown and JSON.

const MODE_NAMES = { sparring: "Sparring", critique: "Critique", brainstorm: "Brainstorm" };

function when(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Markdown, with each kept picture (given as data URLs by id) shown where it was sent. */
export function toMarkdown(conversation, pictures = {}) {
  const lines = [
    `# ${conversation.title || "Conversation with Parley"}`,
    "",
    `_${MODE_NAMES[conversation.mode] || "Sparring"} · ${when(conversation.createdAt)}_`,
    "",
  ];
  for (const turn of conversation.turns) {
    const who = turn.role === "user" ? "You" : "Parley";
    const note = turn.interrupted ? " _(interrupted)_" : "";
    for (const id of turn.images || []) {
      lines.push(pictures[id] ? `![A picture you showed](${pictures[id]})` : "_(a picture)_", "");
    }
    lines.push(`**${who}:** ${turn.content.trim()}${note}`, "");
  }
  return `${lines.join("\n").trim()}\n`;
}

/** JSON, with each kept picture as a data URL beside its turn. */
export function toJSON(conversation, pictures = {}) {
  const data = {
    format: "parley.conversation/1",
    id: conversation.id,
    title: conversation.title,
    mode: conversation.mode,
    createdAt: new Date(conversation.createdAt).toISOString(),
    updatedAt: new Date(conversation.updatedAt).toISOString(),
    turns: conversation.turns.map((t) => ({
      role: t.role,
      content: t.content,
      at: new Date(t.at).toISOString(),
      ...(t.interrupted ? { interrupted: true } : {}),
      // Voice-to-voice stages (timing.js): timings only, not personal data.
      ...(t.timing ? { timing: t.timing } : {}),
      ...(t.images?.length
        ? { images: t.images.map((id) => pictures[id]).filter(Boolean) } : {}),
    })),
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** A file name for the conversation, without an extension: its title as a slug. */
export function baseName(conversation) {
  return (conversation.title || "parley")
    .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 48) || "parley";
}

/** The conversation as history for the API: finished user and assistant turns (with the
 * ids of their kept pictures, which the talk loop turns into data URLs). */
export function history(conversation) {
  return conversation.turns
    .filter((t) => (t.role === "user" || t.role === "assistant") && t.content.trim())
    .map((t) => (t.images?.length ? { role: t.role, content: t.content, images: t.images }
      : { role: t.role, content: t.content }));
}

const BRIEF_HEADINGS = [
  ["problem", "Problem"], ["audience", "Audience"], ["constraints", "Constraints"],
  ["decisions", "Decisions"], ["ideas", "Ideas"], ["openQuestions", "Open questions"],
  ["nextSteps", "Next steps"],
];

/** The living brief as Markdown to paste into Figma, Notion or a ticket. */
export function briefToMarkdown(brief, project) {
  const lines = [`# ${brief.title || project.title}`, ""];
  if (brief.title && brief.title !== project.title) lines.push(`_${project.title}_`, "");
  if (brief.conflicts.length) {
    lines.push("## To settle");
    for (const c of brief.conflicts) {
      lines.push(`- Decided: ${c.decision}${c.note ? ` \u2014 ${c.note}` : ""}`);
    }
    lines.push("");
  }
  for (const [section, heading] of BRIEF_HEADINGS) {
    const items = brief.sections[section] || [];
    lines.push(`## ${heading}`);
    lines.push(...(items.length ? items.map((i) => `- ${i.text}`) : ["- Not discussed yet."]));
    lines.push("");
  }
  return `${lines.join("\n").trim()}\n`;
}
