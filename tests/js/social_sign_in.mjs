// better-auth's own client asks our server to begin a social sign-in, as a browser app does
// with `authClient.signIn.social(...)`. Prints one JSON line: the client's `{data, error}`
// and the Set-Cookie headers it received (the state cookie a browser would keep).
// usage: node social_sign_in.mjs <baseURL> <provider> <callbackURL>
import { createAuthClient } from "better-auth/client";

const [baseURL, provider, callbackURL] = process.argv.slice(2);
let cookies = [];
const client = createAuthClient({
  baseURL,
  fetchOptions: {
    onResponse(context) {
      cookies = context.response.headers.getSetCookie();
    },
  },
});
const { data, error } = await client.signIn.social({ provider, callbackURL });
process.stdout.write(JSON.stringify({ data, error, cookies }) + "\n");
