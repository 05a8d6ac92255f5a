using System.ComponentModel.DataAnnotations;

namespace Newsletter.Worker.Delivery;

public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
    Auto,
}

public sealed class SmtpOptions : IValidatableObject
{
    public const string Section = "Smtp";

    public string Host { get; set; } = "localhost";

    [Range(1, 65535)]
    public int Port { get; set; } = 25;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>Send the user name and password over a connection without TLS (a server on a trusted network that
    /// offers none). Off: a session without TLS is refused before the password is sent, so a stripped STARTTLS
    /// cannot reveal it.</summary>
    public bool AllowPlainTextLogin { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>DATA sent with MAIL FROM and RCPT TO when the server pipelines, on plain connections
    /// (<see cref="BatchingSocketStream"/>); false: MailKit's own command groups on the socket.</summary>
    public bool PipelineData { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Security == SmtpSecurity.None && !string.IsNullOrEmpty(UserName) && !AllowPlainTextLogin)
        {
            yield return new ValidationResult(
                "Smtp:Security=None with Smtp:UserName would send the password unencrypted; use StartTls or SslOnConnect, " +
                "or set Smtp:AllowPlainTextLogin=true for a server on a trusted network.", [nameof(Security)]);
        }
    }
}
