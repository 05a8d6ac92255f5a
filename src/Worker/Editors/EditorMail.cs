using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Text;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Editors;

/// <summary>A plain-text email to the editors. <paramref name="Id"/> names it in the Message-ID, the same
/// on every attempt, so a copy sent twice is recognisably the same message.</summary>
public sealed record EditorEmail(string From, string Subject, string Text, string Id);

/// <summary>Sends the service's own emails to editors through the configured transport (pickup folder or SMTP),
/// one copy per editor over one connection.</summary>
public sealed partial class EditorMail(
    IMailTransport transport, IOptions<NewsletterOptions> newsletter, IOptions<LogPrivacyOptions> logPrivacy, TimeProvider time,
    ILogger<EditorMail> logger)
{
    /// <summary>How many editors' servers accepted the email. A refusal or an unreachable server is logged
    /// in one line and counted out, never thrown: the caller decides whether to try again later.</summary>
    public async Task<int> SendAsync(EditorEmail email, IReadOnlyList<Editor> editors, CancellationToken cancellationToken)
    {
        var accepted = 0;
        IMailConnection? connection = null;
        try
        {
            foreach (var editor in editors)
            {
                var message = Build(email, editor);
                connection ??= await transport.OpenAsync(cancellationToken);
                var result = await connection.SendAsync(message, (MailboxAddress)message.From[0], (MailboxAddress)message.To[0], cancellationToken);
                if (result.Status == SendStatus.Accepted)
                {
                    accepted++;
                }
                else
                {
                    LogRefused(logger, email.Subject, logPrivacy.Value.Name(editor.Id, editor.Email), result.Reply);
                }
                if (!connection.IsOpen)
                {
                    await connection.DisposeAsync();
                    connection = null;
                }
            }
        }
        catch (MailTransportException ex)
        {
            LogUnreachable(logger, email.Subject, ex.Message);
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
        return accepted;
    }

    private MimeMessage Build(EditorEmail email, Editor editor)
    {
        var n = newsletter.Value;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(MessageFactory.OneLine(email.From)));
        message.To.Add(new MailboxAddress(MessageFactory.OneLine(editor.Name), editor.Email));
        message.Subject = MessageFactory.OneLine(email.Subject);
        message.Date = time.GetUtcNow();
        message.MessageId = $"editors.{email.Id}.{editor.Id}@{n.MessageIdDomain ?? new Uri(n.PublicBaseUrl).Host}";
        // Written by the service itself, not list mail: auto-responders should stay quiet (RFC 3834).
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Body = new TextPart(TextFormat.Plain) { Text = email.Text, ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        return message;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Editors' email \"{Subject}\" to editor {Editor} was refused; trying again at the next check if no editor got it: {Reply}")]
    private static partial void LogRefused(ILogger logger, string subject, string editor, string reply);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Editors' email \"{Subject}\" not sent, trying again at the next check: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string subject, string reason);
}
