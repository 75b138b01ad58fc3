// Drives better-auth's own client with its adminClient plugin against our server, through
// every admin endpoint, and prints one JSON line per call: {step, data, error}.
//   node admin_client.mjs <baseUrl> <adminToken> <email> <password>
// (`error` is what the client hands an app: {status, code, message}, or null.)
import { createAuthClient } from "better-auth/client";
import { adminClient } from "better-auth/client/plugins";

const [, , baseURL, adminToken, email, password] = process.argv;

function client(token) {
  return createAuthClient({
    baseURL,
    plugins: [adminClient()],
    fetchOptions: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
}

const admin = client(adminToken);
const anonymous = client(null);

async function step(name, call) {
  const { data, error } = await call();
  const out = {
    step: name,
    data: data ?? null,
    error: error ? { status: error.status, code: error.code ?? null, message: error.message } : null,
  };
  console.log(JSON.stringify(out));
  return out;
}

const created = await step("createUser", () =>
  admin.admin.createUser({ email, password, name: "Made By Admin", role: "user" }),
);
const userId = created.data.user.id;

await step("listUsers", () =>
  admin.admin.listUsers({
    query: {
      searchValue: email.split("@")[0],
      searchField: "email",
      searchOperator: "contains",
      limit: 10,
      offset: 0,
      sortBy: "createdAt",
      sortDirection: "desc",
    },
  }),
);
await step("listUsersFiltered", () =>
  admin.admin.listUsers({ query: { filterField: "role", filterValue: "admin", limit: 5 } }),
);
await step("getUser", () => admin.admin.getUser({ query: { id: userId } }));
await step("updateUser", () =>
  admin.admin.updateUser({ userId, data: { name: "Renamed By Admin" } }),
);
await step("setRoleAdmin", () => admin.admin.setRole({ userId, role: "admin" }));
await step("setRoleUser", () => admin.admin.setRole({ userId, role: "user" }));

// The user signs in (better-auth's own sign-in call), so there are sessions to manage.
const first = await step("signIn", () => anonymous.signIn.email({ email, password }));
const userClient = client(first.data.token);
await step("userListUsers", () => userClient.admin.listUsers({ query: { limit: 1 } }));
await step("userBanUser", () => userClient.admin.banUser({ userId }));
await step("userHasPermission", () =>
  userClient.admin.hasPermission({ permissions: { user: ["ban"] } }),
);
await step("adminHasPermission", () =>
  admin.admin.hasPermission({ permissions: { user: ["ban"], session: ["revoke"] } }),
);

const sessions = await step("listUserSessions", () => admin.admin.listUserSessions({ userId }));
await step("revokeUserSession", () =>
  admin.admin.revokeUserSession({ sessionToken: sessions.data.sessions[0].token }),
);
await step("sessionAfterRevoke", () => userClient.getSession());
await step("signInAgain", () => anonymous.signIn.email({ email, password }));
await step("revokeUserSessions", () => admin.admin.revokeUserSessions({ userId }));
await step("sessionsAfterRevokeAll", () => admin.admin.listUserSessions({ userId }));

const newPassword = `${password}-new`;
await step("setUserPassword", () => admin.admin.setUserPassword({ userId, newPassword }));
await step("signInNewPassword", () => anonymous.signIn.email({ email, password: newPassword }));

await step("banUser", () =>
  admin.admin.banUser({ userId, banReason: "Spamming", banExpiresIn: 60 * 60 }),
);
await step("signInBanned", () => anonymous.signIn.email({ email, password: newPassword }));
await step("unbanUser", () => admin.admin.unbanUser({ userId }));
await step("signInUnbanned", () => anonymous.signIn.email({ email, password: newPassword }));

await step("removeUser", () => admin.admin.removeUser({ userId }));
await step("getRemovedUser", () => admin.admin.getUser({ query: { id: userId } }));
