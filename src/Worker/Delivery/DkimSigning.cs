using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.OpenSsl;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Signs messages with DKIM when <c>Messages:Dkim</c> is configured: rsa-sha256, relaxed/relaxed,
/// over the headers a mailbox provider checks, the list headers included. One instance serves
/// every sender thread (MimeKit creates the RSA signer per call).
/// </summary>
public sealed class DkimSigning
{
    /// <summary>Signed whenever present, in this order. Reply-To and Feedback-ID only appear when configured.</summary>
    public static readonly IReadOnlyList<string> SignedHeaders =
    [
        "From", "Reply-To", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
    ];

    /// <summary>Listed once more than they appear (oversigned), so a copy added later breaks the signature: verifiers
    /// read a header bottom up, and the copy a reader's client shows is the top one.</summary>
    public static readonly IReadOnlyList<string> OversignedHeaders = ["From", "Subject", "List-Unsubscribe"];

    private readonly DkimSigner? _signer;

    public DkimSigning(IOptions<MessageOptions> options)
    {
        var o = options.Value.Dkim;
        if (!o.Enabled)
        {
            return;
        }
        if (!DkimKey.TryLoad(o, out var key, out var problem))
        {
            // Options validation reports this at start with the key's name; this is the backstop.
            throw new InvalidOperationException($"{MessageOptions.Section}:Dkim: {problem}");
        }
        _signer = new DkimSigner(key, o.Domain!.Trim(), o.Selector!.Trim(), DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            QueryMethod = "dns/txt",
        };
    }

    public bool Enabled => _signer is not null;

    /// <summary>Adds a DKIM-Signature header. The message must already be prepared for transport
    /// (<see cref="MimeMessage.Prepare"/>): changing its encoding afterwards would break the body hash.</summary>
    public void Sign(MimeMessage message)
    {
        if (_signer is null)
        {
            return;
        }
        // Content-Type lives on the body entity in MimeKit but is written (and signed) in the message's header block.
        var headers = SignedHeaders
            .Where(h => message.Headers.Contains(h) || (h.StartsWith("Content-", StringComparison.Ordinal) && message.Body?.Headers.Contains(h) == true))
            .ToList();
        headers.AddRange(OversignedHeaders.Where(message.Headers.Contains));
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        _signer.Sign(options, message, headers);
    }
}

/// <summary>Reads and checks a DKIM private key, so a bad key stops the service at start with a clear reason.</summary>
internal static class DkimKey
{
    public static bool TryLoad(DkimOptions options, out AsymmetricKeyParameter key, out string problem)
    {
        key = null!;
        string pem;
        if (!string.IsNullOrWhiteSpace(options.PrivateKeyPath))
        {
            var path = Path.GetFullPath(options.PrivateKeyPath);
            try
            {
                pem = File.ReadAllText(path, Encoding.ASCII);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot read the DKIM private key file '{path}': {ex.Message}";
                return false;
            }
        }
        else
        {
            pem = options.PrivateKey ?? "";
            if (!pem.Contains('\n', StringComparison.Ordinal) && pem.Contains("\\n", StringComparison.Ordinal))
            {
                pem = pem.Replace("\\n", "\n", StringComparison.Ordinal);
            }
        }

        // .NET's parser gives the clearer errors; BouncyCastle gives MimeKit the key it signs with.
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            // Gmail and Yahoo expect 2048 bits; shorter keys can be factored by a determined attacker.
            if (rsa.KeySize < 2048)
            {
                problem = $"the DKIM key is {rsa.KeySize} bits; use an RSA key of 2048 bits (openssl genrsa -out dkim.pem 2048)";
                return false;
            }
            _ = rsa.ExportParameters(includePrivateParameters: true);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            problem = "not an RSA private key in PEM form (expected '-----BEGIN PRIVATE KEY-----' or '-----BEGIN RSA PRIVATE KEY-----'; "
                + $"create one with: openssl genrsa -out dkim.pem 2048): {ex.Message}";
            return false;
        }

        try
        {
            var read = new PemReader(new StringReader(pem)).ReadObject();
            key = read switch
            {
                AsymmetricCipherKeyPair pair => pair.Private,
                AsymmetricKeyParameter { IsPrivate: true } parameter => parameter,
                _ => null!,
            };
        }
        catch (Exception ex) when (ex is IOException or InvalidCastException or ArgumentException)
        {
            problem = $"the DKIM key could not be read: {ex.Message}";
            return false;
        }
        if (key is not RsaKeyParameters)
        {
            problem = "the PEM text does not hold an RSA private key";
            return false;
        }
        problem = "";
        return true;
    }
}
