// Drives the real AI SDK chat transport against our server; prints JSON lines for the test.
//   node chat_client.mjs <5|6> <baseUrl> <token> send <chatId> <text> [model]
//   node chat_client.mjs <5|6> <baseUrl> <token> resume <chatId>
// readUIMessageStream validates every chunk against the SDK's own schemas
// (terminateOnError), so a chunk the client would reject fails here too.
const [, , major, baseUrl, token, command, chatId, text, model] = process.argv;
const { DefaultChatTransport, readUIMessageStream } = await import(major === "5" ? "ai5" : "ai6");

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
