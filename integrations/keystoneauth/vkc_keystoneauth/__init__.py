"""keystoneauth1 auth type ``vkc``: tokens from ``vkc-credential``.

The plugin runs ``vkc-credential get --format keystoneauth [--profile P]``
and builds its AccessInfo from Keystone's whole token body that the helper
prints, catalog included.  With a warm vkc-credential cache an openstack
command therefore makes no call to Keystone to authenticate: the password
stays in the OS keychain and never reaches this process.

Options (``openstack --os-auth-type vkc``, or ``auth_type: vkc`` in
clouds.yaml):

``vkc_profile``  (``--os-vkc-profile``, ``OS_VKC_PROFILE``)
    the vkc-credential profile; when unset, vkc-credential's own default
    applies (``VKC_PROFILE``, else ``default``).

The program the plugin runs is not an option: ``OS_VKC_COMMAND`` in the
environment (an absolute path), else ``vkc-credential`` on ``PATH``; run
directly, never through a shell.  An auth option may come from a
clouds.yaml in the current directory (a repository someone else wrote), so
an option naming a program would let that file run it: a ``vkc_command``
left in a clouds.yaml is ignored with a warning, and ``--os-vkc-command``
is no longer a flag of the openstack CLI.
"""

import json
import logging
import os
import shutil
import subprocess
import threading
import unicodedata

from keystoneauth1 import access
from keystoneauth1 import exceptions
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1.identity import base
from keystoneauth1.loading import base as loading_base
from keystoneauth1.loading import opts

__all__ = ("VkcCredential", "VkcCredentialError", "VkcLoader",
           "COMMAND_ENV", "DEFAULT_COMMAND", "TIMEOUT_SECONDS")

LOG = logging.getLogger(__name__)

# The environment variable that names the vkc-credential executable (an
# absolute path), and the name looked up on PATH without it.
COMMAND_ENV = "OS_VKC_COMMAND"
DEFAULT_COMMAND = "vkc-credential"

# Bound on one vkc-credential run.  vkc-credential bounds itself (30 s for
# each Keystone exchange, 10 s per keychain call by default, 2 minutes for
# a person to answer an askpass dialog with a TOTP passcode); this only
# guards against a helper that hangs for some other reason.
TIMEOUT_SECONDS = 180

_PREFIX = "vkc-credential: "


class VkcCredentialError(exceptions.AuthorizationFailure):
    """vkc-credential failed or printed something unusable.

    ``exit_status`` is its exit status (None when it did not run or did not
    finish); ``stderr`` its whole standard error, as it was.  The message
    carries the helper's own one-line error message and the exit status,
    made inert by ``_inert``.
    """

    def __init__(self, message, exit_status=None, stderr=""):
        super(VkcCredentialError, self).__init__(_inert(message))
        self.exit_status = exit_status
        self.stderr = stderr


# Control (Cc), format (Cf: U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ...) and
# lone surrogate (Cs) characters: escaped in every message.
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs")


def _escape(char):
    code = ord(char)
    if code < 0x100:
        return "\\x%02x" % code
    return "\\u%04x" % code if code < 0x10000 else "\\U%08x" % code


def _inert(text):
    """``text`` on one line, safe to show on a terminal.

    Runs of whitespace (newlines and tabs too) become one space; every other
    control, format or surrogate character is written as an escape:
    ``\\x1b``, ``\\u202e``.
    """
    return "".join(
        _escape(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c
        for c in " ".join(str(text).split()))


def _error_line(stderr):
    """The helper's one-line error message out of its stderr.

    With --debug (VKC_DEBUG=1) stderr also carries step-by-step lines; the
    error is the last line prefixed ``vkc-credential: ``.
    """
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith(_PREFIX):
            return ln
    return lines[-1] if lines else ""


def _json_error(stdout):
    """The message of a JSON error answer on stdout, or "".

    vkc-credential prints ``{"version": 1, "error": {"code": ...,
    "message": ...}}`` on stdout only for its JSON formats; a wrapper given
    as OS_VKC_COMMAND may do so for keystoneauth too.
    """
    try:
        message = json.loads(stdout.decode("utf-8"))["error"]["message"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return ""
    return _PREFIX + message if isinstance(message, str) and message else ""


class VkcCredential(base.BaseIdentityPlugin):
    """An identity plugin that asks vkc-credential for a token and catalog.

    ``auth_url`` is not an option: the vkc-credential profile holds it.
    After the first token the plugin's ``auth_url`` is the identity endpoint
    of the catalog (used only by code that asks for the auth endpoint
    itself, ``interface=keystoneauth1.plugin.AUTH_INTERFACE``).
    """

    def __init__(self, vkc_profile=None, timeout=TIMEOUT_SECONDS,
                 reauthenticate=True):
        super(VkcCredential, self).__init__(auth_url=None,
                                            reauthenticate=reauthenticate)
        self.vkc_profile = vkc_profile or None
        self.timeout = timeout
        # invalidate() sets _refresh: the next get_auth_ref passes --refresh.
        self._refresh = False
        # The token that the last forced refresh returned: invalidating
        # that one again does not ask for yet another (no loop).
        self._refreshed_token = None
        self._state_lock = threading.Lock()

    # --- the helper -------------------------------------------------------

    @staticmethod
    def _command():
        """The vkc-credential executable: OS_VKC_COMMAND, else PATH's.

        Read from the environment on every run, never from an auth option
        (see the module's comment).
        """
        command = os.environ.get(COMMAND_ENV, "")
        if command:
            if not os.path.isabs(command):
                raise VkcCredentialError(
                    "vkc: %s must be an absolute path, not %r; give the "
                    "full path of vkc-credential, or unset it to use the "
                    "vkc-credential on PATH" % (COMMAND_ENV, command))
            return command
        found = shutil.which(DEFAULT_COMMAND)
        if found is None:
            raise VkcCredentialError(
                "vkc: %s is not on PATH: install it there, or set %s to "
                "its absolute path" % (DEFAULT_COMMAND, COMMAND_ENV))
        return found

    def _argv(self, refresh):
        argv = [self._command(), "get", "--format", "keystoneauth"]
        if self.vkc_profile:
            argv += ["--profile", self.vkc_profile]
        if refresh:
            argv.append("--refresh")
        return argv

    def _run(self, refresh):
        argv = self._argv(refresh)
        what = "`%s`" % " ".join(argv)
        LOG.debug("vkc: running %s", _inert(what))
        try:
            proc = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise VkcCredentialError(
                "vkc: %s not found: set %s to the absolute path of "
                "vkc-credential, or unset it to use the one on PATH"
                % (argv[0], COMMAND_ENV))
        except OSError as e:  # not executable, a directory ...
            raise VkcCredentialError("vkc: cannot run %s: %s"
                                     % (argv[0], e))
        except subprocess.TimeoutExpired as e:
            stderr = (e.stderr or b"").decode("utf-8", "replace")
            raise VkcCredentialError(
                "vkc: %s did not finish within %s s" % (what, self.timeout),
                stderr=stderr)

        stderr = proc.stderr.decode("utf-8", "replace")
        for line in stderr.splitlines():
            # --debug/VKC_DEBUG steps and warnings; tokens come masked.
            LOG.debug("vkc: %s", _inert(line))
        if proc.returncode != 0:
            line = (_error_line(stderr) or _json_error(proc.stdout) or
                    "(no message on stderr)")
            raise VkcCredentialError(
                "%s (%s exited with status %d)" % (line, what,
                                                  proc.returncode),
                exit_status=proc.returncode, stderr=stderr)
        try:
            answer = json.loads(proc.stdout.decode("utf-8"))
            token = answer["auth_token"]
            body = answer["body"]
            if not isinstance(token, str) or not token:
                raise ValueError("auth_token is not a non-empty string")
            if not isinstance(body, dict) or \
                    not isinstance(body.get("token"), dict):
                raise ValueError('body has no "token" object')
            auth_ref = access.create(body=body, auth_token=token)
            # What keystoneauth reads later, read now: a malformed
            # expires_at or catalog fails here, not in the middle of a
            # request.
            auth_ref.expires
            auth_ref.service_catalog.get_endpoints()
        except RecursionError:
            raise VkcCredentialError(
                "vkc: %s printed JSON nested too deeply to decode" % what,
                exit_status=0, stderr=stderr)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            # ValueError includes JSONDecodeError and UnicodeDecodeError.
            raise VkcCredentialError(
                "vkc: %s printed no keystoneauth answer "
                '({"auth_token": ..., "body": {"token": ...}}): %s'
                % (what, e), exit_status=0, stderr=stderr)
        return auth_ref

    # --- BaseIdentityPlugin -------------------------------------------------

    def get_auth_ref(self, session, **kwargs):
        """Run vkc-credential and return the AccessInfo it describes.

        No HTTP request goes through ``session``: the helper talks to
        Keystone itself, and only when its cache has no good token.
        """
        with self._state_lock:
            refresh = self._refresh
        auth_ref = self._run(refresh)
        with self._state_lock:
            if refresh:
                self._refresh = False
                self._refreshed_token = auth_ref.auth_token
            # openstackclient calls get_auth_ref directly (not get_access):
            # keep the answer so that the session's get_access reuses it
            # instead of running vkc-credential a second time.
            self.auth_ref = auth_ref
            if self.auth_url is None:
                self.auth_url = self._identity_url(auth_ref)
        return auth_ref

    @staticmethod
    def _identity_url(auth_ref):
        try:
            return auth_ref.service_catalog.url_for(
                service_type="identity", interface="public")
        except (exceptions.EndpointNotFound, exceptions.EmptyCatalog):
            return None

    def invalidate(self):
        """A service answered 401: drop the token, force a fresh one.

        keystoneauth's session calls this once and retries the request once
        when it returns True.  The next get_auth_ref runs ``get --refresh``.
        A token that a forced refresh itself returned is not refreshed again
        (returns False): a 401 on a token Keystone just issued is final.
        """
        with self._state_lock:
            if self.auth_ref is None:
                return False
            if (self._refreshed_token is not None and
                    self.auth_ref.auth_token == self._refreshed_token):
                LOG.debug("vkc: 401 with a token fresh from --refresh; "
                          "not refreshing again")
                return False
            self.auth_ref = None
            self._refresh = True
            return True

    def get_endpoint_data(self, session, service_type=None, interface=None,
                          **kwargs):
        if interface is ks_plugin.AUTH_INTERFACE and self.auth_url is None:
            self.get_access(session)  # learns auth_url from the catalog
        return super(VkcCredential, self).get_endpoint_data(
            session, service_type=service_type, interface=interface,
            **kwargs)


class VkcLoader(loading_base.BaseLoader):
    """Loader of the ``vkc`` auth type (entry point keystoneauth1.plugin)."""

    @property
    def plugin_class(self):
        return VkcCredential

    def get_options(self):
        options = super(VkcLoader, self).get_options()
        options.extend([
            opts.Opt("vkc-profile",
                     help="vkc-credential profile to take the token from "
                          "(default: vkc-credential's own, VKC_PROFILE or "
                          "'default')"),
        ])
        return options

    def create_plugin(self, **kwargs):
        # Any auth key reaches here, options or not (openstacksdk hands
        # over the whole auth: section of clouds.yaml).
        if kwargs.get("vkc_command"):
            LOG.warning(
                "vkc: ignoring vkc_command %s from the auth options (a "
                "clouds.yaml, perhaps one in the current directory, may "
                "not choose a program to run): the program run is the one "
                "%s names (an absolute path), else vkc-credential on PATH; "
                "remove vkc_command from clouds.yaml",
                _inert(repr(kwargs["vkc_command"])), COMMAND_ENV)
        return VkcCredential(vkc_profile=kwargs.get("vkc_profile"))
