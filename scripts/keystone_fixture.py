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
  FIX_MFA_USER            name of the MFA user (domain FIX_DOMAIN, member of
                          FIX_PROJECT): multi_factor_auth_rules
                          [["password", "totp"]], enabled, one TOTP credential
  FIX_MFA_PASSWORD_FILE   its password
  FIX_MFA_TOTP_SECRET_FILE its TOTP secret (base32, no padding): the blob of
                          its totp credential
  FIX_APP_CRED_NAME       name of an application credential of user 1 on
                          FIX_PROJECT (created as user 1, who owns it)
  FIX_APP_CRED_SECRET_FILE its secret
  FIX_RULES_SERVICE, FIX_RULES_URL  a service of that type and public URL,
                          added to the catalog (the service "protect" runs)

User 1 is a member of FIX_PROJECT and FIX_PROJECT2; user 2 of FIX_PROJECT2.

  keystone_fixture.py protect --port P --host 127.0.0.1 --log FILE
      Serves, behind keystonemiddleware's auth_token (the middleware every
      OpenStack service puts before its API), an app that answers 200 with
      {"method": ..., "path": ...} to any request whose token the middleware
      accepts.  Its service type is FIX_RULES_SERVICE, so the access rules
      of an application credential are enforced as a real service enforces
      them: Keystone's own API does not enforce them.  It validates tokens
      with Keystone at FIX_AUTH_URL as the admin (FIX_ADMIN_PASSWORD_FILE).
      The middleware's log goes to FILE.

create is idempotent (get-or-create; passwords are reset on existing users,
the MFA user's options and TOTP credential, the application credential and
the rules service's endpoint are replaced).
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

    # User 1 also works in project 2: one user, two projects.
    ks.roles.grant(role, user=out['USER_ID'], project=out['PROJECT2_ID'])

    # The MFA user: a password alone gets an auth receipt, password + TOTP
    # passcode a token.
    project = out['PROJECT_ID']
    mfa_name = env.get('FIX_MFA_USER', 'mfa.user@example.com')
    mfa_pw = read(env['FIX_MFA_PASSWORD_FILE'])
    mfa_options = {'multi_factor_auth_enabled': True,
                   'multi_factor_auth_rules': [['password', 'totp']]}
    user = one(ks.users.list(name=mfa_name, domain=domain))
    if user is None:
        user = ks.users.create(name=mfa_name, domain=domain, password=mfa_pw,
                               default_project=project, options=mfa_options)
    else:
        ks.users.update(user, password=mfa_pw, options=mfa_options)
    ks.roles.grant(role, user=user, project=project)
    for cred in ks.credentials.list(user_id=user.id, type='totp'):
        ks.credentials.delete(cred)
    ks.credentials.create(user=user, type='totp',
                          blob=read(env['FIX_MFA_TOTP_SECRET_FILE']))
    out['MFA_USER_ID'] = user.id

    # An application credential of user 1 on project 1, created by user 1
    # (only the owner may).
    own = v3.Password(auth_url=auth_url,
                      username=env.get('FIX_USER', 'dev.user@example.com'),
                      password=read(env['FIX_PASSWORD_FILE']),
                      user_domain_id=domain.id, project_id=project)
    own_ks = ks_client.Client(session=ks_session.Session(auth=own, timeout=30),
                              endpoint_override=auth_url, interface='public')
    ac_name = env.get('FIX_APP_CRED_NAME', 'vkc-e2e')
    acs = own_ks.application_credentials
    for ac in acs.list(user=out['USER_ID'], name=ac_name):
        acs.delete(ac, user=out['USER_ID'])
    ac = acs.create(
        name=ac_name, user=out['USER_ID'],
        secret=read(env['FIX_APP_CRED_SECRET_FILE']),
        description='vkc-credential e2e')
    out['APP_CRED_ID'] = ac.id

    # A service that enforces access rules, in the catalog (keystonemiddleware
    # refuses a rule-bound token for a service type the catalog lacks).
    rules_type = env.get('FIX_RULES_SERVICE')
    if rules_type:
        service = one(ks.services.list(type=rules_type)) or \
            ks.services.create(name=rules_type, type=rules_type,
                               description='vkc-credential e2e: access rules')
        for ep in ks.endpoints.list(service=service):
            ks.endpoints.delete(ep)
        ks.endpoints.create(service=service, url=env['FIX_RULES_URL'],
                            interface='public', region='RegionOne')

    for k, v in out.items():
        print('%s=%s' % (k, v))
    return 0


def protect(argv):
    import argparse
    import json
    import logging
    from wsgiref import simple_server

    from keystonemiddleware import auth_token

    ap = argparse.ArgumentParser(prog='keystone_fixture.py protect')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--log', required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(filename=args.log, level=logging.INFO)

    def app(environ, start_response):
        body = json.dumps({'method': environ['REQUEST_METHOD'],
                           'path': environ.get('PATH_INFO', '')}).encode()
        start_response('200 OK', [('Content-Type', 'application/json'),
                                  ('Content-Length', str(len(body)))])
        return [body]

    env = os.environ
    conf = {
        'www_authenticate_uri': env['FIX_AUTH_URL'],
        'auth_type': 'password',
        'auth_url': env['FIX_AUTH_URL'],
        'username': 'admin',
        'password': read(env['FIX_ADMIN_PASSWORD_FILE']),
        'user_domain_id': 'default',
        'project_name': 'admin',
        'project_domain_id': 'default',
        'service_type': env['FIX_RULES_SERVICE'],
        'service_token_roles_required': 'true',
        'delay_auth_decision': 'false',
    }
    wrapped = auth_token.AuthProtocol(app, conf)

    class QuietHandler(simple_server.WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - stdlib's name
            logging.info('%s - %s', self.address_string(), format % args)

    server = simple_server.make_server(args.host, args.port, wrapped,
                                       handler_class=QuietHandler)
    server.serve_forever()
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
    if cmd == 'protect':
        return protect(sys.argv[2:])
    print('usage: keystone_fixture.py create | serve ARGS... | protect ARGS...',
          file=sys.stderr)
    return 2


if __name__ == '__main__':
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - report any failure clearly
        print('keystone_fixture.py: %s: %s' % (type(e).__name__, e),
              file=sys.stderr)
        sys.exit(1)
