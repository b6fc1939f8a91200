// A real OpenID provider (the npm package oidc-provider) for tests/permissions/test_oidc_provider.py.
//
// node oidc_provider.mjs CONFIG.json
// CONFIG: { port (0 = any free one), alg, keys: [private JWKs, the first signs],
//           clients: [{ client_id, client_secret, claims }],
//           resources: [{ indicator, audience }] }
// Issues JWT access tokens by the client credentials grant; each client's `claims` are
// added to its tokens (as Keycloak, Auth0 or Entra would add roles and org). Prints
// "ISSUER <url>" once it listens.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import Provider, { errors } from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const claimsOf = Object.fromEntries(config.clients.map((c) => [c.client_id, c.claims]));

const server = createServer();
server.listen(config.port, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients.map(({ client_id, client_secret }) => ({
      client_id,
      client_secret,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
    })),
    jwks: { keys: config.keys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.resources[0].indicator,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => {
          const resource = config.resources.find((r) => r.indicator === indicator);
          if (!resource) throw new errors.InvalidTarget();
          return {
            scope: "api",
            audience: resource.audience,
            accessTokenTTL: 300,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: config.alg } },
          };
        },
      },
    },
    extraTokenClaims: (ctx, token) => claimsOf[token.clientId],
  });
  server.on("request", provider.callback());
  console.log(`ISSUER ${issuer}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
