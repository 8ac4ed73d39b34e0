// A real OpenID Connect provider (oidc-provider 9.x) on loopback for FinPulse's integration tests.
//
// It speaks the real protocol: authorization code flow with PKCE required, RS256 ID tokens,
// userinfo, JWKS, RP-initiated logout, and JWT access tokens for the FinPulse API resource
// indicator. Only the accounts and a few knobs are test-controlled, through a small admin
// endpoint under /__admin/ on the same port, so a test can remove a role between two logins.
//
// Environment:
//   OIDC_TEST_PORT              port to listen on (0 or unset: a free port)
//   OIDC_TEST_CLIENT_ID         the FinPulse client (default finpulse)
//   OIDC_TEST_CLIENT_SECRET     its secret (default finpulse-test-secret)
//   OIDC_TEST_REDIRECT_URIS     comma-separated redirect URIs of that client
//   OIDC_TEST_POST_LOGOUT_URIS  comma-separated post-logout redirect URIs
//   OIDC_TEST_API_AUDIENCE      resource indicator that gets JWT access tokens (default urn:finpulse:api)
//   OIDC_TEST_OTHER_AUDIENCE    a second resource (another bank system) for wrong-audience tests
//
// On start it prints one line `READY <port>` to stdout.
//
// Authentication strength: every sign-in is by password (amr ["pwd"], acr ACR_PASSWORD). An
// account whose `mfa` is "on_request" also passes its second factor when the relying party asks
// for it with acr_values naming ACR_MFA (as a step-up does), and one whose `mfa` is "always" at
// every sign-in: the ID token then says amr ["pwd", "otp", "mfa"], acr ACR_MFA, with auth_time.
// (The dev login form has no second-factor field: the account's setting stands for the person
// completing the bank IdP's own MFA prompt.)
//
// Admin endpoint (JSON):
//   PUT  /__admin/accounts/<sub>   body = claims ({email, name, groups, branch}) and `mfa`
//                                  ("never" default, "on_request", "always"); replaces them
//   DELETE /__admin/accounts/<sub> the account no longer exists
//   PUT  /__admin/settings         body = {accessTokenTTL: seconds}
//   GET  /__admin/stats            {"hits": {"/me": n, "/jwks": n, "/token": n, ...}}
//   POST /__admin/stats/reset

import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { generateKeyPair, exportJWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

const env = process.env;
const listenPort = Number(env.OIDC_TEST_PORT || 0);
const clientId = env.OIDC_TEST_CLIENT_ID || 'finpulse';
const clientSecret = env.OIDC_TEST_CLIENT_SECRET || 'finpulse-test-secret';
const redirectUris = (env.OIDC_TEST_REDIRECT_URIS || 'http://127.0.0.1:8000/oidc/callback/').split(',').filter(Boolean);
const postLogoutUris = (env.OIDC_TEST_POST_LOGOUT_URIS || 'http://127.0.0.1:8000/accounts/logged-out/')
  .split(',')
  .filter(Boolean);
const apiAudience = env.OIDC_TEST_API_AUDIENCE || 'urn:finpulse:api';
const ACR_PASSWORD = 'urn:finpulse:test:acr:pwd';
const ACR_MFA = 'urn:finpulse:test:acr:mfa';
const otherAudience = env.OIDC_TEST_OTHER_AUDIENCE || 'urn:other-bank-system:api';

// Test-controlled state.
const accounts = new Map(); // sub -> claims
const hits = {};
const knobs = { accessTokenTTL: 600 };

function countHit(pathname) {
  hits[pathname] = (hits[pathname] || 0) + 1;
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      try {
        resolve(body ? JSON.parse(body) : {});
      } catch (error) {
        reject(error);
      }
    });
  });
}

function sendJson(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function handleAdmin(req, res, pathname) {
  const accountMatch = pathname.match(/^\/__admin\/accounts\/([^/]+)$/);
  if (accountMatch && req.method === 'PUT') {
    const sub = decodeURIComponent(accountMatch[1]);
    accounts.set(sub, await readJson(req));
    return sendJson(res, 200, { sub, claims: accounts.get(sub) });
  }
  if (accountMatch && req.method === 'DELETE') {
    accounts.delete(decodeURIComponent(accountMatch[1]));
    return sendJson(res, 200, {});
  }
  if (pathname === '/__admin/settings' && req.method === 'PUT') {
    Object.assign(knobs, await readJson(req));
    return sendJson(res, 200, knobs);
  }
  if (pathname === '/__admin/stats' && req.method === 'GET') {
    return sendJson(res, 200, { hits });
  }
  if (pathname === '/__admin/stats/reset' && req.method === 'POST') {
    for (const key of Object.keys(hits)) delete hits[key];
    return sendJson(res, 200, { hits });
  }
  return sendJson(res, 404, { error: 'unknown admin route' });
}

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: `test-${randomUUID()}`, alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => {
  server.listen(listenPort, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  jwks: { keys: [signingKey] },
  acrValues: [ACR_PASSWORD, ACR_MFA],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'finpulse'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    finpulse: ['groups', 'branch'],
  },
  async findAccount(ctx, sub) {
    if (!accounts.has(sub)) return undefined;
    return {
      accountId: sub,
      // Read per request: a role removed between two logins is gone at the next one.
      async claims() {
        const { mfa, ...claims } = accounts.get(sub) || {};
        return { sub, ...claims };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    // JWT access tokens carry the same role and branch claims as the ID token/userinfo.
    if (!token.accountId || !accounts.has(token.accountId)) return undefined;
    const { groups, branch } = accounts.get(token.accountId);
    return { groups, branch };
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Browser sign-in asks for no resource: its access token stays opaque for /me.
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator === apiAudience || resourceIndicator === otherAudience) {
          return {
            scope: 'openid email profile finpulse',
            audience: resourceIndicator,
            accessTokenTTL: knobs.accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
  ttl: { IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60 },
});

// How the person authenticated (see the header): the login interaction's result carries amr
// and acr, which oidc-provider puts in the session and the ID token.
const finishInteraction = provider.interactionFinished.bind(provider);
provider.interactionFinished = async (req, res, result, options) => {
  if (result && result.login && result.login.accountId) {
    const { params } = await provider.interactionDetails(req, res);
    const mfa = (accounts.get(result.login.accountId) || {}).mfa || 'never';
    const asked = String(params.acr_values || '').split(' ').includes(ACR_MFA);
    const strong = mfa === 'always' || (mfa === 'on_request' && asked);
    result.login = {
      ...result.login,
      amr: strong ? ['pwd', 'otp', 'mfa'] : ['pwd'],
      acr: strong ? ACR_MFA : ACR_PASSWORD,
    };
  }
  return finishInteraction(req, res, result, options);
};

const callback = provider.callback();
server.on('request', (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  if (pathname.startsWith('/__admin/')) {
    handleAdmin(req, res, pathname).catch((error) => sendJson(res, 400, { error: String(error) }));
    return;
  }
  countHit(pathname);
  callback(req, res);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.stdout.write(`READY ${port}\n`);
