package cmdline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// checkSecretCommand refuses what does not go with --secret-command: an
// empty command; a secret supplied with it (the request's password,
// --password-stdin, one in the --openrc or --cloud file), since the
// command is the secret's one source; a keychain backend, since such a
// profile keeps its secret in none.
func checkSecretCommand(r helper.StoreRequest, pwStdin bool, req *protocol.Request, file sourceFile) error {
	switch {
	case strings.TrimSpace(r.SecretCommand) == "":
		return usagef("--secret-command is empty; give the shell command that prints the password " +
			"(a profile stops using its command when a store is given a password or names --keyring)")
	case pwStdin:
		return usagef("--password-stdin and --secret-command both give the password; give one of them")
	case req != nil && req.Password != nil:
		return usagef("the request's \"password\" and --secret-command both give the password; remove one of them")
	case file.secret != "":
		return usagef("%s holds a %s, and --secret-command gives one too: remove it from that file, or drop --secret-command",
			file.secretFrom, helper.SecretNoun(file.settings))
	case r.Keyring != "" && r.Keyring != helper.AutoKeyring:
		return usagef("a profile with --secret-command keeps no secret in a keychain, so --keyring %s (or VKC_KEYRING) does not apply; drop one of them", r.Keyring)
	}
	return nil
}

// secretCommandDetail is msg, the text of an error that e (a secret
// command that gave no secret) caused, with the first line the command
// wrote to stderr, escaped.
func secretCommandDetail(msg string, e *helper.SecretCommandError) string {
	if said := e.Said(); said != "" {
		return msg + " (it said: " + terminalSafe(said) + ")"
	}
	return msg
}

// secretCommandHint says what to do about a secret command that gave no
// secret.
func secretCommandHint(e *helper.SecretCommandError) string {
	var hint string
	switch {
	case e.PrintedLines():
		hint = "make it print the password alone (for pass: `pass show ENTRY | head -n1`)"
	case errors.Is(e, keyring.ErrTimeout):
		hint = "it has --keyring-timeout (VKC_KEYRING_TIMEOUT) to finish: if it waits for a passphrase or an approval, unlock the password manager first, or raise the timeout"
	default:
		hint = "run it in a shell to see why (`vkc-credential list` shows each profile's secret_command)"
	}
	if e.Profile == "" {
		return hint + ", or give another with --secret-command"
	}
	return fmt.Sprintf("%s, or store another with `vkc-credential store --profile %s --secret-command COMMAND`", hint, e.Profile)
}

// commandRejectedHint: Keystone refused what the profile's secret command
// printed (e.Cause is RejectSecret or RejectUnknown).
func commandRejectedHint(e *helper.RejectedError) string {
	noun := helper.SecretNoun(e.Settings)
	check := fmt.Sprintf("check that the secret command prints the current %s and nothing else (`vkc-credential list` shows it)", noun)
	if e.Cause == helper.RejectUnknown {
		return fmt.Sprintf("keystone gives this answer both for a wrong password and for a project the user has no role on: %s, and the project ID", check)
	}
	return fmt.Sprintf("keystone refused the %s that the secret command printed: %s%s", noun, check, nothingSaved(e))
}

// secretCommandCheck is doctor's check of a profile's secret command: run
// as a get would run it, what it prints never shown. It runs only for a
// doctor of that profile alone (run): a command may ask a person to unlock
// a password manager, and a doctor of every profile would ask once per
// profile.
func secretCommandCheck(ctx context.Context, h *helper.Helper, name string, p *helper.Profile, run bool) check {
	return check{"profile " + name + ": secret command", func() checkResult {
		if !run {
			return skip("not run: it may ask you to unlock a password manager; `vkc-credential doctor --profile %s` runs it", name)
		}
		err := h.CheckSecretCommand(ctx, name, p.SecretCommand)
		if e := (*helper.SecretCommandError)(nil); errors.As(err, &e) {
			return fail(secretCommandDetail(err.Error(), e), secretCommandHint(e))
		}
		if err != nil {
			return fail(err.Error(), "")
		}
		return ok("it ran and printed a secret (not shown)")
	}}
}
