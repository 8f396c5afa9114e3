/** An HTTPS server on 127.0.0.1 serving an MTA-STS policy, with a certificate from the test CA. */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KeyCert } from './pki.js';

export interface StsServer {
  port: number;
  requests: number;
  policy: string;
  status: number;
  close(): Promise<void>;
}

export async function startStsServer(cert: KeyCert, policy: string): Promise<StsServer> {
  const state = { requests: 0, policy, status: 200 };
  const server: Server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    state.requests++;
    if (req.url !== '/.well-known/mta-sts.txt') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(state.status, { 'content-type': 'text/plain' }).end(state.policy);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get requests() {
      return state.requests;
    },
    get policy() {
      return state.policy;
    },
    set policy(p: string) {
      state.policy = p;
    },
    get status() {
      return state.status;
    },
    set status(s: number) {
      state.status = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const enforcePolicy = (mx: string, maxAge = 86400) => `version: STSv1\r\nmode: enforce\r\nmx: ${mx}\r\nmax_age: ${maxAge}\r\n`;
