"""Unit tests of the vkc auth type against a fake vkc-credential.

    cd integrations/keystoneauth && /usr/bin/python3 -m unittest discover -s tests -v

The fake is a small Python script written per test; it logs its argv and
what it read on stdin, writes FAKE_STDERR to stderr, and answers according
to FAKE_MODE ("raw": FAKE_STDOUT and exit status FAKE_STATUS).
"""

import http.server
import json
import logging
import os
import shutil
import sys
import tempfile
import textwrap
import threading
import unicodedata
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keystoneauth1 import exceptions  # noqa: E402
from keystoneauth1 import plugin as ks_plugin  # noqa: E402
from keystoneauth1 import session as ks_session  # noqa: E402

import vkc_keystoneauth  # noqa: E402
from vkc_keystoneauth import VkcCredential, VkcCredentialError, VkcLoader  # noqa: E402,E501

PROJECT_ID = "b5b7ffd4ef0547e5b222f44500000000"

# A terminal title change (OSC ... BEL), an erase-line (CSI 2K) and a
# RIGHT-TO-LEFT OVERRIDE, and how a message must show them.
HOSTILE = "\x1b]0;title\x07 \x1b[2K\u202eevil\u200b"
HOSTILE_ESCAPED = "\\x1b]0;title\\x07 \\x1b[2K\\u202eevil\\u200b"
AUTH_URL = "https://infra.example.com:35357/v3/"

FAKE = textwrap.dedent("""\
    #!{python}
    import json, os, sys, time
    args = sys.argv[1:]
    stdin = sys.stdin.read()
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
    mode = os.environ.get("FAKE_MODE", "ok")
    sys.stderr.buffer.write(os.environb.get(b"FAKE_STDERR", b""))
    sys.stderr.flush()
    if mode == "raw":
        sys.stdout.buffer.write(os.environb.get(b"FAKE_STDOUT", b""))
        sys.exit(int(os.environ.get("FAKE_STATUS", "0")))
    if mode == "fail":
        sys.stderr.write("vkc-credential: no profile \\"x\\" is stored; "
                         "create it with `vkc-credential store`\\n")
        sys.exit(3)
    if mode == "debugfail":
        sys.stderr.write("vkc-credential: debug: step one\\n"
                         "vkc-credential: debug: step two\\n"
                         "vkc-credential: Keystone rejected the password\\n")
        sys.exit(4)
    if mode == "silentfail":
        sys.exit(5)
    if mode == "badjson":
        print("not json")
        sys.exit(0)
    if mode == "notoken":
        print(json.dumps({{"auth_token": "t", "body": {{"access": {{}}}}}}))
        sys.exit(0)
    if mode == "sleep":
        time.sleep(30)
    if "--refresh" in args:
        token = os.environ.get("FAKE_REFRESH_TOKEN", "tok-refreshed")
    else:
        token = os.environ.get("FAKE_TOKEN", "tok-cached")
    body = {{"token": {{
        "methods": ["password"],
        "user": {{"id": "u1", "name": "user@example.com",
                  "domain": {{"id": "d1", "name": "users"}}}},
        "project": {{"id": "{project}", "name": "prod",
                     "domain": {{"id": "d1", "name": "users"}}}},
        "issued_at": "2020-01-01T00:00:00.000000Z",
        "expires_at": "2999-01-01T00:00:00.000000Z",
        "catalog": [{{"type": "identity", "name": "keystone", "id": "s1",
                      "endpoints": [{{"id": "e1", "interface": "public",
                                      "region": "RegionOne",
                                      "region_id": "RegionOne",
                                      "url": "{auth_url}"}}]}}],
    }}}}
    body["token"].update(json.loads(os.environ.get("FAKE_TOKEN_PATCH", "{{}}")))
    print(json.dumps({{"auth_token": token, "body": body}}))
""")


class _Base(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vkc-ka-test-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.cmd = os.path.join(self.dir, "vkc-credential")
        with open(self.cmd, "w") as f:
            f.write(FAKE.format(python=sys.executable, project=PROJECT_ID,
                                auth_url=AUTH_URL))
        os.chmod(self.cmd, 0o755)
        self.log = os.path.join(self.dir, "calls.log")
        env = mock.patch.dict(os.environ, {"FAKE_LOG": self.log,
                                           "OS_VKC_COMMAND": self.cmd})
        env.start()
        self.addCleanup(env.stop)
        self.session = ks_session.Session()

    def mode(self, mode):
        os.environ["FAKE_MODE"] = mode

    def calls(self):
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def plugin(self, profile="prod", **kw):
        return VkcCredential(vkc_profile=profile, **kw)

    def raw(self, stdout="", status=0):
        self.mode("raw")
        os.environ["FAKE_STDOUT"] = stdout
        os.environ["FAKE_STATUS"] = str(status)

    def get_error(self, plugin=None):
        """The VkcCredentialError that get_access raises."""
        with self.assertRaises(VkcCredentialError) as cm:
            (plugin or self.plugin()).get_access(self.session)
        return cm.exception

    def assertInert(self, text):
        unsafe = [c for c in text
                  if unicodedata.category(c) in ("Cc", "Cf", "Cs")]
        self.assertEqual(unsafe, [], text)



class FakeHelperTest(_Base):

    # --- options -------------------------------------------------------

    def test_loader_options(self):
        opts = {o.dest: o for o in VkcLoader().get_options()}
        self.assertEqual(set(opts), {"vkc_profile"})
        self.assertIsNone(opts["vkc_profile"].default)
        self.assertFalse(opts["vkc_profile"].required)
        # What the openstack CLI makes of it.
        self.assertEqual(opts["vkc_profile"].argparse_args,
                         ["--os-vkc-profile"])
        with mock.patch.dict(os.environ, {"OS_VKC_PROFILE": "p"}):
            self.assertEqual(opts["vkc_profile"].argparse_default, "p")

    def test_loader_creates_plugin_without_any_option(self):
        p = VkcLoader().load_from_options()
        self.assertIsInstance(p, VkcCredential)
        self.assertIsNone(p.vkc_profile)
        p = VkcLoader().load_from_options(vkc_profile="prod")
        self.assertEqual(p.vkc_profile, "prod")

    def test_loader_ignores_foreign_auth_keys(self):
        # clouds.yaml may carry leftovers (auth_url, project_id ...).
        p = VkcLoader().load_from_options(vkc_profile="prod",
                                          auth_url="https://x/v3")
        self.assertEqual(p.vkc_profile, "prod")

    def test_entry_point_when_installed(self):
        from keystoneauth1 import loading
        try:
            loader = loading.get_plugin_loader("vkc")
        except exceptions.NoMatchingPlugin:
            self.skipTest("package not installed")
        self.assertIsInstance(loader, VkcLoader)

    # --- get -----------------------------------------------------------

    def test_get_access_runs_helper_and_builds_access_info(self):
        p = self.plugin()
        ref = p.get_access(self.session)
        self.assertEqual(ref.auth_token, "tok-cached")
        self.assertEqual(ref.project_id, PROJECT_ID)
        self.assertEqual(p.get_token(self.session), "tok-cached")
        self.assertEqual(p.get_project_id(self.session), PROJECT_ID)
        self.assertEqual(
            p.get_endpoint(self.session, service_type="identity",
                           interface="public", skip_discovery=True),
            AUTH_URL)
        self.assertEqual(p.auth_url, AUTH_URL)
        self.assertEqual(self.calls(), [{
            "args": ["get", "--format", "keystoneauth", "--profile", "prod"],
            "stdin": ""}])

    def test_no_profile_means_no_profile_flag(self):
        self.plugin(profile=None).get_access(self.session)
        self.assertEqual(self.calls()[0]["args"],
                         ["get", "--format", "keystoneauth"])

    def test_get_auth_ref_then_get_access_runs_helper_once(self):
        # openstackclient calls get_auth_ref itself, then the session
        # calls get_access for every request.
        p = self.plugin()
        ref = p.get_auth_ref(self.session)
        self.assertIs(p.get_access(self.session), ref)
        p.get_token(self.session)
        self.assertEqual(len(self.calls()), 1)

    def test_auth_interface_endpoint_is_catalog_identity(self):
        p = self.plugin()
        url = p.get_endpoint(self.session, interface=ks_plugin.AUTH_INTERFACE,
                             skip_discovery=True)
        self.assertEqual(url, AUTH_URL)

    def test_auth_state_round_trip(self):
        p = self.plugin()
        p.get_access(self.session)
        q = self.plugin()
        q.set_auth_state(p.get_auth_state())
        self.assertEqual(q.get_token(self.session), "tok-cached")
        self.assertEqual(len(self.calls()), 1)

    # --- invalidate ------------------------------------------------------

    def test_invalidate_without_token(self):
        self.assertFalse(self.plugin().invalidate())

    def test_invalidate_refreshes_once(self):
        p = self.plugin()
        self.assertEqual(p.get_token(self.session), "tok-cached")
        self.assertTrue(p.invalidate())
        self.assertEqual(p.get_token(self.session), "tok-refreshed")
        # A 401 on the token the forced refresh returned: give up.
        self.assertFalse(p.invalidate())
        self.assertEqual(p.get_token(self.session), "tok-refreshed")
        self.assertEqual([c["args"][-1] for c in self.calls()],
                         ["prod", "--refresh"])

    def test_invalidate_again_after_a_normal_get(self):
        p = self.plugin()
        p.get_token(self.session)
        self.assertTrue(p.invalidate())
        p.get_token(self.session)  # --refresh
        p.auth_ref = None          # expired, say: a normal get follows
        os.environ["FAKE_TOKEN"] = "tok-cached-2"
        self.addCleanup(os.environ.pop, "FAKE_TOKEN", None)
        self.assertEqual(p.get_token(self.session), "tok-cached-2")
        self.assertTrue(p.invalidate())

    # --- failures --------------------------------------------------------

    def test_helper_failure(self):
        self.mode("fail")
        with self.assertRaises(VkcCredentialError) as cm:
            self.plugin().get_access(self.session)
        e = cm.exception
        self.assertIsInstance(e, exceptions.AuthorizationFailure)
        self.assertEqual(e.exit_status, 3)
        self.assertIn('vkc-credential: no profile "x" is stored', str(e))
        self.assertIn("exited with status 3", str(e))
        self.assertNotIn("\n", str(e))

    def test_helper_failure_with_debug_lines(self):
        self.mode("debugfail")
        with self.assertRaises(VkcCredentialError) as cm:
            self.plugin().get_access(self.session)
        self.assertTrue(str(cm.exception).startswith(
            "vkc-credential: Keystone rejected the password"), cm.exception)
        self.assertEqual(cm.exception.exit_status, 4)
        self.assertIn("step one", cm.exception.stderr)

    def test_helper_failure_without_message(self):
        self.mode("silentfail")
        with self.assertRaises(VkcCredentialError) as cm:
            self.plugin().get_access(self.session)
        self.assertIn("exited with status 5", str(cm.exception))

    def test_bad_json(self):
        self.mode("badjson")
        with self.assertRaises(VkcCredentialError) as cm:
            self.plugin().get_access(self.session)
        self.assertIn("no keystoneauth answer", str(cm.exception))
        self.assertEqual(cm.exception.exit_status, 0)

    def test_body_without_token(self):
        self.mode("notoken")
        with self.assertRaises(VkcCredentialError) as cm:
            self.plugin().get_access(self.session)
        self.assertIn('no "token" object', str(cm.exception))

    def test_deeply_nested_json(self):
        self.raw("[" * 20000 + "]" * 20000)
        e = self.get_error()
        self.assertIn("nested too deeply", str(e))
        self.assertEqual(e.exit_status, 0)

    def test_deeply_nested_json_in_the_body(self):
        self.raw('{"auth_token": "t", "body": {"token": {"x": %s}}}'
                 % ("[" * 20000 + "]" * 20000))
        self.assertIn("nested too deeply", str(self.get_error()))

    def test_not_utf8(self):
        self.raw("\udcff")  # os.environ writes it as the byte 0xff
        self.assertIn("can't decode byte 0xff", str(self.get_error()))

    def test_malformed_expires_at(self):
        os.environ["FAKE_TOKEN_PATCH"] = json.dumps({"expires_at": "soon"})
        self.assertIn("no keystoneauth answer", str(self.get_error()))

    def test_malformed_catalog(self):
        for catalog in ([1], [{"type": "identity", "endpoints": "x"}]):
            os.environ["FAKE_TOKEN_PATCH"] = json.dumps({"catalog": catalog})
            self.assertIn("no keystoneauth answer", str(self.get_error()))

    def test_json_error_on_stdout_when_stderr_is_silent(self):
        self.raw(json.dumps({"version": 1, "error": {
            "code": "auth_failed", "message": "password rejected"}}), 4)
        e = self.get_error()
        self.assertTrue(str(e).startswith(
            "vkc-credential: password rejected (`"), e)
        self.assertEqual(e.exit_status, 4)

    # --- hostile bytes stay inert ----------------------------------------

    def test_inert(self):
        inert = vkc_keystoneauth._inert
        self.assertEqual(inert(" a\tb\r\n c  "), "a b c")
        self.assertEqual(inert("\x00\x7f\x9b\xad"), "\\x00\\x7f\\x9b\\xad")
        self.assertEqual(inert("\u200b\ufeff\U000e0001\udcff"),
                         "\\u200b\\ufeff\\U000e0001\\udcff")
        self.assertEqual(inert("пароль «x» 密码"), "пароль «x» 密码")

    def test_escapes_in_stderr(self):
        os.environ["FAKE_STDERR"] = "vkc-credential: " + HOSTILE + "\n"
        self.raw(status=4)
        e = self.get_error()
        self.assertTrue(str(e).startswith(
            "vkc-credential: " + HOSTILE_ESCAPED + " (`"), e)
        self.assertInert(str(e))
        self.assertIn(HOSTILE, e.stderr)  # the attribute keeps it as it was

    def test_escapes_in_a_json_error_message(self):
        self.raw(json.dumps({"version": 1, "error": {
            "code": "auth_failed", "message": HOSTILE}}), 4)
        e = self.get_error()
        self.assertIn(HOSTILE_ESCAPED, str(e))
        self.assertInert(str(e))

    def test_escapes_in_a_json_answer(self):
        os.environ["FAKE_TOKEN_PATCH"] = json.dumps({"expires_at": HOSTILE})
        e = self.get_error()
        self.assertIn("no keystoneauth answer", str(e))
        self.assertInert(str(e))

    def test_escapes_in_the_command_name(self):
        os.environ["OS_VKC_COMMAND"] = os.path.join(self.dir,
                                                    "missing" + HOSTILE)
        e = self.get_error()
        self.assertIn("missing" + HOSTILE_ESCAPED, str(e))
        self.assertInert(str(e))

    def test_escapes_in_the_debug_log(self):
        os.environ["FAKE_STDERR"] = ("vkc-credential: debug: " + HOSTILE +
                                     "\tend\n")
        with self.assertLogs("vkc_keystoneauth", logging.DEBUG) as logs:
            self.plugin(profile="p" + HOSTILE).get_access(self.session)
        self.assertEqual(len(logs.records), 2)
        for record in logs.records:
            self.assertIn(HOSTILE_ESCAPED, record.getMessage())
            self.assertInert(record.getMessage())

    def test_command_not_found(self):
        os.environ["OS_VKC_COMMAND"] = os.path.join(self.dir, "missing")
        e = self.get_error()
        self.assertIn("not found: set OS_VKC_COMMAND", str(e))
        self.assertIsNone(e.exit_status)

    # --- which program runs (issue 15 item 4) ---------------------------

    def test_command_from_path_without_the_variable(self):
        del os.environ["OS_VKC_COMMAND"]
        with mock.patch.dict(os.environ, {"PATH": self.dir}):
            self.plugin().get_access(self.session)
        self.assertEqual(len(self.calls()), 1)

    def test_not_on_path(self):
        del os.environ["OS_VKC_COMMAND"]
        empty = tempfile.mkdtemp(dir=self.dir)
        with mock.patch.dict(os.environ, {"PATH": empty}):
            e = self.get_error()
        self.assertIn("vkc-credential is not on PATH", str(e))
        self.assertIn("OS_VKC_COMMAND", str(e))

    def test_relative_command_is_refused(self):
        # Relative to the current directory, which may be anyone's.
        os.environ["OS_VKC_COMMAND"] = "vkc-credential"
        with mock.patch.dict(os.environ, {"PATH": self.dir}):
            e = self.get_error()
        self.assertIn("OS_VKC_COMMAND must be an absolute path", str(e))
        self.assertEqual(self.calls(), [])

    def test_auth_options_never_name_the_program(self):
        """A planted clouds.yaml's vkc_command runs nothing (issue 15.4).

        openstacksdk hands the whole auth: section to the loader, and the
        openstack CLI would have made --os-vkc-command of an option: the
        program named there must never run, whatever else is set.
        """
        marker = os.path.join(self.dir, "marker")
        planted = os.path.join(self.dir, "planted")
        with open(planted, "w") as f:
            f.write("#!/bin/sh\ntouch %s\n" % marker)
        os.chmod(planted, 0o755)
        self.assertNotIn("vkc_command",
                         [o.dest for o in VkcLoader().get_options()])
        for env in ({}, {"OS_VKC_COMMAND": None}):
            with self.subTest(env=env):
                if env:
                    del os.environ["OS_VKC_COMMAND"]
                    os.environ["PATH"] = self.dir
                with self.assertLogs("vkc_keystoneauth",
                                     logging.WARNING) as logs:
                    p = VkcLoader().load_from_options(
                        vkc_profile="prod", vkc_command=planted)
                p.get_access(self.session)
                self.assertFalse(os.path.exists(marker))
                self.assertIn("ignoring vkc_command", logs.output[0])
                self.assertIn("OS_VKC_COMMAND", logs.output[0])
        self.assertEqual(len(self.calls()), 2)  # the real one ran instead

    def test_timeout(self):
        self.mode("sleep")
        with self.assertRaises(VkcCredentialError) as cm:
            self.plugin(timeout=0.5).get_access(self.session)
        self.assertIn("did not finish within 0.5 s", str(cm.exception))

    def test_default_timeout(self):
        self.assertEqual(vkc_keystoneauth.TIMEOUT_SECONDS, 180)
        self.assertEqual(self.plugin().timeout, 180)


class _Handler(http.server.BaseHTTPRequestHandler):
    """200 for the token in server.good, 401 for any other."""

    def do_GET(self):
        self.server.seen.append(self.headers.get("X-Auth-Token"))
        code = 200 if self.headers.get("X-Auth-Token") == self.server.good \
            else 401
        data = b"{}"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class SessionRetryTest(_Base):
    """keystoneauth's session: 401 -> invalidate -> fresh token -> retry."""

    def setUp(self):
        super(SessionRetryTest, self).setUp()
        self.server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
        self.server.seen = []
        t = threading.Thread(target=self.server.serve_forever, daemon=True)
        t.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = "http://127.0.0.1:%d/v3/regions" % self.server.server_port

    def test_401_refreshes_and_retries_once(self):
        self.server.good = "tok-refreshed"
        s = ks_session.Session(auth=self.plugin())
        self.assertEqual(s.get(self.url).status_code, 200)
        self.assertEqual(self.server.seen, ["tok-cached", "tok-refreshed"])
        self.assertEqual([c["args"][-1] for c in self.calls()],
                         ["prod", "--refresh"])

    def test_401_with_the_fresh_token_does_not_loop(self):
        self.server.good = "nothing-is-good"
        s = ks_session.Session(auth=self.plugin())
        with self.assertRaises(exceptions.Unauthorized):
            s.get(self.url)
        with self.assertRaises(exceptions.Unauthorized):
            s.get(self.url)
        self.assertEqual(self.server.seen,
                         ["tok-cached", "tok-refreshed", "tok-refreshed"])
        self.assertEqual(len(self.calls()), 2)


if __name__ == "__main__":
    unittest.main()
