using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Newsletter.Tests.Infrastructure.Mailbox;

/// <summary>The files a <see cref="TestDovecot"/> runs from: its configuration, user database and certificate.</summary>
internal static class DovecotFiles
{
    /// <summary>dovecot.conf for one maildir user, listening on 127.0.0.1 at the given ports.</summary>
    public static void WriteConfiguration(string folder, DovecotAccounts accounts, int imapPort, int imapsPort, int pop3Port, int pop3sPort)
    {
        var f = folder;
        if (f.Any(char.IsWhiteSpace) || f.Length > 70)
        {
            // Dovecot's settings take paths unquoted here, and its sockets under base_dir must fit a socket address.
            throw new InvalidOperationException($"The temporary folder '{f}' is unsuitable for Dovecot: set TMPDIR to a short path without spaces.");
        }
        WritePrivate(Path.Combine(folder, "dovecot.conf"), string.Create(CultureInfo.InvariantCulture, $$"""
            # One maildir user on 127.0.0.1 for the tests; no system paths, no system service.
            base_dir = {{f}}/run
            state_dir = {{f}}/state
            log_path = {{f}}/dovecot.log
            info_log_path = {{f}}/dovecot.log
            protocols = imap pop3
            listen = 127.0.0.1
            ssl = yes
            ssl_cert = <{{f}}/cert.pem
            ssl_key = <{{f}}/key.pem
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            auth_failure_delay = 0
            mail_fsync = never

            # Who runs what: see DovecotAccounts. The group follows each user's own.
            default_internal_user = {{accounts.InternalUser}}
            default_internal_group =
            default_login_user = {{accounts.LoginUser}}
            first_valid_uid = {{accounts.MailUid}}
            first_valid_gid = {{accounts.MailGid}}
            mail_location = maildir:{{f}}/mail/%u

            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {{f}}/users
            }
            userdb {
              driver = passwd-file
              args = username_format=%u {{f}}/users
            }

            # chroot needs root; these services chroot by default.
            service imap-login {
              chroot =
              inet_listener imap {
                port = {{imapPort}}
              }
              inet_listener imaps {
                port = {{imapsPort}}
                ssl = yes
              }
            }
            service pop3-login {
              chroot =
              inet_listener pop3 {
                port = {{pop3Port}}
              }
              inet_listener pop3s {
                port = {{pop3sPort}}
                ssl = yes
              }
            }
            service ipc {
              chroot =
            }
            # Auth finds no penalty socket under its usual name and so keeps no failed-login penalty.
            service anvil {
              chroot =
              unix_listener anvil-auth-penalty {
                path = anvil-auth-penalty-unused
              }
            }

            """));
    }

    /// <summary>The passwd-file: the user's plain password, the mail uid and gid, and the maildir as home.</summary>
    public static void WriteUsers(string folder, string user, string password, DovecotAccounts accounts, string maildir) =>
        WritePrivate(Path.Combine(folder, "users"), $"{user}:{{PLAIN}}{password}:{accounts.MailUid}:{accounts.MailGid}::{maildir}::\n");

    /// <summary>A self-signed certificate for 127.0.0.1 and localhost, written as cert.pem and key.pem; returns its public part.</summary>
    public static X509Certificate2 CreateCertificate(string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        foreach (var (name, pem) in new[] { ("cert.pem", certificate.ExportCertificatePem()), ("key.pem", key.ExportPkcs8PrivateKeyPem()) })
        {
            var path = Path.Combine(folder, name);
            File.WriteAllText(path, pem);
            FileModes.Set(path, FileModes.Private);
        }
        return X509CertificateLoader.LoadCertificate(certificate.RawData);
    }

    private static void WritePrivate(string path, string text)
    {
        File.WriteAllText(path, text);
        FileModes.Set(path, FileModes.Private);
    }
}
