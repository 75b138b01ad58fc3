// better-auth's own client (npm `better-auth`) for the flows that mail a link: the Python
// test sends one call per line on stdin, {call, args, token?}, and reads one JSON line back,
// {data, error} (`error` as the client hands it to an app: {status, code, message}).
// `call` is a client method path ("requestPasswordReset", "signIn.email", …), or "openLink"
// to open a mailed link the way a browser does, without following its redirect.
//   node auth_mail_client.mjs <baseUrl> <origin>
import readline from "node:readline";
import { createAuthClient } from "better-auth/client";

const [, , baseURL, origin] = process.argv;

function client(token) {
  const headers = { Origin: origin };
  if (token) headers.Authorization = `Bearer ${token}`;
  return createAuthClient({ baseURL, fetchOptions: { headers } });
}

async function run({ call, args, token }) {
  if (call === "openLink") {
    const response = await fetch(args.url, { redirect: "manual" });
    return {
      data: { status: response.status, location: response.headers.get("location") },
      error: null,
    };
  }
  const target = client(token);
  const method = call.split(".").reduce((object, key) => object[key], target);
  const { data, error } = await method(args);
  return {
    data: data ?? null,
    error: error
      ? { status: error.status, code: error.code ?? null, message: error.message ?? null }
      : null,
  };
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let out;
  try {
    out = await run(JSON.parse(line));
  } catch (exc) {
    out = { data: null, error: { status: 0, code: "CLIENT_THREW", message: String(exc) } };
  }
  console.log(JSON.stringify(out));
}
