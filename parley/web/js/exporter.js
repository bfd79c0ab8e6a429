// Conversations as files people can take elsewhere: Markdown and JSON.

const MODE_NAMES = { sparring: "Sparring", critique: "Critique", brainstorm: "Brainstorm" };

function when(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function toMarkdown(conversation) {
  const lines = [
    `# ${conversation.title || "Conversation with Parley"}`,
    "",
    `_${MODE_NAMES[conversation.mode] || "Sparring"} · ${when(conversation.createdAt)}_`,
    "",
  ];
  for (const turn of conversation.turns) {
    const who = turn.role === "user" ? "You" : "Parley";
    const note = turn.interrupted ? " _(interrupted)_" : "";
    lines.push(`**${who}:** ${turn.content.trim()}${note}`, "");
  }
  return `${lines.join("\n").trim()}\n`;
}

export function toJSON(conversation) {
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
    })),
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** A file name for the conversation, without an extension: its title as a slug. */
export function baseName(conversation) {
  return (conversation.title || "parley")
    .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 48) || "parley";
}

/** The conversation as history for the API: finished user and assistant turns. */
export function history(conversation) {
  return conversation.turns
    .filter((t) => (t.role === "user" || t.role === "assistant") && t.content.trim())
    .map((t) => ({ role: t.role, content: t.content }));
}
