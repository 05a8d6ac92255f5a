using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Bounces;

/// <summary>What one poll of the mailbox did.</summary>
public sealed record MailboxPoll(int Read, int Acted, int Duplicates, int Unreadable, int Kept);

/// <summary>
/// Reads the bounce mailbox with MailKit. A message leaves the mailbox (moved to the processed folder
/// over IMAP, deleted over POP3) only after the processor has committed what it taught, so a crash
/// in between means it is read again next time, and its key makes that count nothing.
/// </summary>
/// <remarks>Over POP3 a message that is not from a mail system (a person's reply) is left in place:
/// a mailbox shared with people must not lose their mail. IMAP moves everything it read, losing nothing.</remarks>
public sealed class BounceMailbox(IOptions<BouncesOptions> options, VerpAddresses verp)
{
    // POP3 messages left in place, by their unique id, so they are not downloaded on every poll.
    private readonly HashSet<string> _kept = new(StringComparer.Ordinal);

    public async Task<MailboxPoll> PollAsync(BounceProcessor sink, CancellationToken cancellationToken)
    {
        var o = options.Value;
        return o.Protocol switch
        {
            MailboxProtocol.Imap => await PollImapAsync(o, sink, cancellationToken),
            MailboxProtocol.Pop3 => await PollPop3Async(o, sink, cancellationToken),
            _ => new MailboxPoll(0, 0, 0, 0, 0),
        };
    }

    private async Task<MailboxPoll> PollImapAsync(BouncesOptions o, BounceProcessor sink, CancellationToken cancellationToken)
    {
        using var client = new ImapClient { Timeout = (int)o.Timeout.TotalMilliseconds };
        await client.ConnectAsync(o.Host!, o.EffectivePort, o.Security, cancellationToken);
        await client.AuthenticateAsync(o.UserName!, o.Password!, cancellationToken);
        var folder = string.Equals(o.Folder, "INBOX", StringComparison.OrdinalIgnoreCase) ? client.Inbox : await client.GetFolderAsync(o.Folder, cancellationToken);
        var processed = await ProcessedFolderAsync(client, o.ProcessedFolder, cancellationToken);
        await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
        var tally = new Tally();
        var summaries = folder.Count == 0 ? [] : await folder.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Size, cancellationToken);
        foreach (var summary in summaries.Take(o.MaxMessagesPerPoll))
        {
            BounceReport report;
            if (summary.Size > o.MaxMessageSize)
            {
                var headers = await folder.GetHeadersAsync(summary.UniqueId, cancellationToken);
                report = TooLarge(headers, $"imap|{folder.FullName}|{folder.UidValidity}|{summary.UniqueId.Id}", summary.Size ?? 0, o);
            }
            else
            {
                report = await ReadAsync(() => folder.GetMessageAsync(summary.UniqueId, cancellationToken), $"imap|{folder.FullName}|{folder.UidValidity}|{summary.UniqueId.Id}");
            }
            tally.Add(await sink.ProcessAsync(report, cancellationToken));
            await folder.MoveToAsync(summary.UniqueId, processed, cancellationToken);
        }
        await client.DisconnectAsync(true, cancellationToken);
        return tally.Poll;
    }

    private static async Task<IMailFolder> ProcessedFolderAsync(ImapClient client, string name, CancellationToken cancellationToken)
    {
        // Under the personal namespace (some servers put every folder inside INBOX).
        var root = client.PersonalNamespaces.Count > 0 ? client.GetFolder(client.PersonalNamespaces[0]) : client.Inbox;
        var existing = (await root.GetSubfoldersAsync(false, cancellationToken))
            .FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        return existing ?? await root.CreateAsync(name, true, cancellationToken)
            ?? throw new InvalidOperationException($"The IMAP server did not create the folder '{name}'.");
    }

    private async Task<MailboxPoll> PollPop3Async(BouncesOptions o, BounceProcessor sink, CancellationToken cancellationToken)
    {
        using var client = new Pop3Client { Timeout = (int)o.Timeout.TotalMilliseconds };
        await client.ConnectAsync(o.Host!, o.EffectivePort, o.Security, cancellationToken);
        await client.AuthenticateAsync(o.UserName!, o.Password!, cancellationToken);
        var count = Math.Min(client.Count, o.MaxMessagesPerPoll);
        var uids = client.Capabilities.HasFlag(Pop3Capabilities.UIDL) && count > 0 ? await client.GetMessageUidsAsync(cancellationToken) : null;
        var sizes = count > 0 ? await client.GetMessageSizesAsync(cancellationToken) : [];
        var tally = new Tally();
        for (var i = 0; i < count; i++)
        {
            var uid = uids?[i];
            if (uid is not null && _kept.Contains(uid))
            {
                continue;
            }
            var fallbackKey = $"pop3|{o.Host}|{o.UserName}|{uid ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            BounceReport report;
            var fromMailSystem = true;
            if (sizes[i] > o.MaxMessageSize)
            {
                report = TooLarge(await client.GetMessageHeadersAsync(i, cancellationToken), fallbackKey, sizes[i], o);
            }
            else
            {
                MimeMessage? message = null;
                var index = i;
                report = await ReadAsync(async () => message = await client.GetMessageAsync(index, cancellationToken), fallbackKey);
                fromMailSystem = message is null || MailSystem.Sent(message);
            }
            var result = await sink.ProcessAsync(report, cancellationToken);
            if (fromMailSystem)
            {
                tally.Add(result);
                await client.DeleteMessageAsync(i, cancellationToken);
            }
            else
            {
                tally.Keep();
                if (uid is not null)
                {
                    _kept.Add(uid);
                }
            }
        }
        // POP3 deletes on QUIT: everything marked above was committed first.
        await client.DisconnectAsync(true, cancellationToken);
        return tally.Poll;
    }

    private async Task<BounceReport> ReadAsync(Func<Task<MimeMessage>> download, string fallbackKey)
    {
        try
        {
            return BounceReport.FromMessage(await download(), BounceSource.Mailbox, verp);
        }
        catch (FormatException ex)
        {
            // MimeKit's ParseException: not a message at all. Counted, and cleared out of the mailbox like any other.
            return BounceReport.NotRead(BounceReport.KeyOf("unreadable", fallbackKey), BounceSource.Mailbox, $"not readable as a message ({ex.Message})");
        }
    }

    private static BounceReport TooLarge(HeaderList headers, string fallbackKey, long size, BouncesOptions o)
    {
        var messageId = headers[HeaderId.MessageId];
        var key = string.IsNullOrWhiteSpace(messageId) ? BounceReport.KeyOf("too-large", fallbackKey) : BounceReport.KeyOf("message-id", MimeUtils.EnumerateReferences(messageId).FirstOrDefault() ?? messageId);
        return BounceReport.NotRead(key, BounceSource.Mailbox,
            $"{size / 1024:N0} KB, over Bounces:MaxMessageSize ({o.MaxMessageSize / 1024:N0} KB); not read");
    }

    private sealed class Tally
    {
        public MailboxPoll Poll { get; private set; } = new(0, 0, 0, 0, 0);

        public void Add(BounceResult result) => Poll = Poll with
        {
            Read = Poll.Read + 1,
            Acted = Poll.Acted + (result.Outcome is BounceOutcome.Counted or BounceOutcome.Suppressed or BounceOutcome.Unsubscribed ? 1 : 0),
            Duplicates = Poll.Duplicates + (result.Duplicate ? 1 : 0),
            Unreadable = Poll.Unreadable + (result.Outcome == BounceOutcome.Unreadable ? 1 : 0),
        };

        public void Keep() => Poll = Poll with { Read = Poll.Read + 1, Kept = Poll.Kept + 1 };
    }
}
