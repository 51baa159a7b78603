#!/usr/bin/python3
"""Test-fixture helper for a real Keystone (used by keystone-up.sh).

Run with Debian's /usr/bin/python3 (it imports keystone/keystoneclient).

  keystone_fixture.py serve --port P --host 127.0.0.1 -- --config-file F
      Runs Debian's keystone-wsgi-public (wsgiref test server) unchanged,
      except that each access-log line ("POST /v3/auth/tokens HTTP/1.1" 201 N)
      is written to stderr BEFORE the response goes out, instead of after it.
      Stock wsgiref logs in close(), after the last byte has been sent, so a
      client could see its response before the line exists in the log; with
      this a test may count lines right after its request returns.

  keystone_fixture.py create
      Creates the e2e fixtures.  Everything comes from the environment so
      that no password is in argv:

  FIX_AUTH_URL            http://127.0.0.1:PORT/v3
  FIX_ADMIN_PASSWORD_FILE admin password (bootstrap user "admin", domain Default)
  FIX_PASSWORD_FILE       password of user 1
  FIX_PASSWORD2_FILE      password of user 2
  FIX_DOMAIN, FIX_PROJECT, FIX_USER, FIX_PROJECT2, FIX_USER2   names

Idempotent (get-or-create; passwords are reset on existing users).
Prints KEY=VALUE lines (IDs only, hex, shell-safe) on stdout.
"""
import os
import sys



def read(path):
    with open(path, 'r', encoding='utf-8', newline='') as f:
        return f.read()


def one(items):
    items = list(items)
    return items[0] if items else None


def create():
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3
    from keystoneclient.v3 import client as ks_client

    env = os.environ
    auth_url = env['FIX_AUTH_URL']
    auth = v3.Password(auth_url=auth_url, username='admin',
                       password=read(env['FIX_ADMIN_PASSWORD_FILE']),
                       user_domain_id='default', project_name='admin',
                       project_domain_id='default')
    sess = ks_session.Session(auth=auth, timeout=30)
    # endpoint_override: never follow catalog URLs, always talk to auth_url.
    ks = ks_client.Client(session=sess, endpoint_override=auth_url,
                          interface='public')

    dom_name = env.get('FIX_DOMAIN', 'users')
    domain = one(ks.domains.list(name=dom_name)) or ks.domains.create(
        name=dom_name, description='VK Cloud style user domain')

    role = one(ks.roles.list(name='member')) or ks.roles.create(name='member')

    out = {'DOMAIN_ID': domain.id}
    pairs = [('', env.get('FIX_PROJECT', 'vkc-test'),
              env.get('FIX_USER', 'dev.user@example.com'),
              env['FIX_PASSWORD_FILE']),
             ('2', env.get('FIX_PROJECT2', 'vkc-test-2'),
              env.get('FIX_USER2', 'second.user@example.com'),
              env['FIX_PASSWORD2_FILE'])]
    for suffix, pname, uname, pwfile in pairs:
        pw = read(pwfile)
        project = one(ks.projects.list(name=pname, domain=domain)) or \
            ks.projects.create(name=pname, domain=domain,
                               description='vkc-credential e2e')
        user = one(ks.users.list(name=uname, domain=domain))
        if user is None:
            user = ks.users.create(name=uname, domain=domain, password=pw,
                                   default_project=project)
        else:
            ks.users.update(user, password=pw)
        ks.roles.grant(role, user=user, project=project)
        out['PROJECT%s_ID' % suffix] = project.id
        out['USER%s_ID' % suffix] = user.id

    for k, v in out.items():
        print('%s=%s' % (k, v))
    return 0


def serve(argv):
    import runpy
    import shutil
    from wsgiref import handlers, simple_server

    orig_send_headers = simple_server.ServerHandler.send_headers

    def send_headers(self):
        self.cleanup_headers()  # sets Content-Length for one-chunk bodies
        size = self.headers.get('Content-Length')
        self.request_handler.log_request(self.status.split(' ', 1)[0],
                                         size if size is not None else '-')
        self._vkc_logged = True
        orig_send_headers(self)

    def close(self):
        try:
            if not getattr(self, '_vkc_logged', False):
                self.request_handler.log_request(
                    (self.status or '-').split(' ', 1)[0], self.bytes_sent)
        finally:
            handlers.SimpleHandler.close(self)

    simple_server.ServerHandler.send_headers = send_headers
    simple_server.ServerHandler.close = close

    script = shutil.which('keystone-wsgi-public') or \
        '/usr/bin/keystone-wsgi-public'
    sys.argv = [script] + argv
    runpy.run_path(script, run_name='__main__')
    return 0


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else 'create'
    if cmd == 'serve':
        return serve(sys.argv[2:])
    if cmd == 'create':
        return create()
    print('usage: keystone_fixture.py create | serve ARGS...', file=sys.stderr)
    return 2


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - report any failure clearly
        print('keystone_fixture.py: %s: %s' % (type(e).__name__, e),
              file=sys.stderr)
        sys.exit(1)
