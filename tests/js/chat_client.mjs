// Drives the real AI SDK chat transport against our server; prints JSON lines for the test.
//   node chat_client.mjs <5|6> <baseUrl> <token> send <chatId> <text> [model]
//   node chat_client.mjs <5|6> <baseUrl> <token> resume <chatId>
//   node chat_client.mjs <5|6> <baseUrl> <token> history <sessionId>
//     (reloads a session's stored messages as useChat would and validates them as UIMessages)
// readUIMessageStream validates every chunk against the SDK's own schemas
// (terminateOnError), so a chunk the client would reject fails here too.
const [, , major, baseUrl, token, command, chatId, text, model] = process.argv;
const { DefaultChatTransport, readUIMessageStream, validateUIMessages } = await import(
  major === "5" ? "ai5" : "ai6"
);

if (command === "history") {
  const url = `${baseUrl}/api/chat/messages?sessionId=${encodeURIComponent(chatId)}&limit=200`;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  const page = await response.json();
  const messages = await validateUIMessages({
    messages: page.data.map(({ id, role, parts }) => ({ id, role, parts })),
  });
  console.log(JSON.stringify({ event: "history", messages }));
  process.exit(0);
}

const transport = new DefaultChatTransport({
  api: `${baseUrl}/api/chat`,
  headers: { Authorization: `Bearer ${token}` },
  body: model ? { model } : {},
});

async function assemble(stream) {
  let last = null;
  for await (const message of readUIMessageStream({ stream, terminateOnError: true })) {
    last = message;
  }
  return last;
}

let stream;
if (command === "send") {
  stream = await transport.sendMessages({
    chatId,
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: undefined,
    messages: [{ id: "u1", role: "user", parts: [{ type: "text", text }] }],
  });
} else {
  stream = await transport.reconnectToStream({ chatId });
  if (stream === null) {
    console.log(JSON.stringify({ event: "nothing-streaming" }));
    process.exit(0);
  }
}
console.log(JSON.stringify({ event: "connected" }));
const message = await assemble(stream);
console.log(JSON.stringify({ event: "message", message }));
