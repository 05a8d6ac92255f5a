using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Worker.Configuration;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;
using Newsletter.Worker.Editions;

namespace Newsletter.Worker.Editors;

/// <summary>A coming slot of an edition that the plan shows with nothing queued.</summary>
/// <param name="When">The slot as a person reads it, zone named.</param>
/// <param name="Day">"Thu 17 Dec", in the edition's time zone.</param>
public sealed record EmptySlot(string Edition, DateTimeOffset SlotUtc, string When, string Day);

/// <summary>
/// What the service tells editors by email: an edition's next slot with nothing queued (once per slot),
/// and a summary of each finished publication (once per publication). Each editor may mute either.
/// </summary>
public sealed partial class EditorNotifications(
    NewsletterDbContext db, EditorMail mail, IOptions<NewsletterOptions> newsletter, IOptions<EditionsOptions> editions,
    TimeProvider time, ILogger<EditorNotifications> logger)
{
    /// <summary>Publications finished longer ago are never summarised: on a database from before summaries
    /// existed, only the last day's are, and a summary still failing after a day is given up.</summary>
    public static readonly TimeSpan SummaryLookBack = TimeSpan.FromDays(1);

    /// <summary>The Settings key holding the edition's last slot warned about.</summary>
    public static string WarnedKey(string edition) => $"empty-slot-warned:{edition}";

    /// <summary>Emails the unmuted editors about <paramref name="slot"/> unless it (or a later slot) was warned about
    /// already; true when at least one editor got the email.</summary>
    public async Task<bool> WarnEmptySlotAsync(EmptySlot slot, CancellationToken cancellationToken)
    {
        var key = WarnedKey(slot.Edition);
        var value = slot.SlotUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        var previous = await db.Settings.AsNoTracking().Where(s => s.Key == key).Select(s => s.Value).FirstOrDefaultAsync(cancellationToken);
        if (previous is not null && DateTime.TryParse(previous, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var warned)
            && warned >= slot.SlotUtc.UtcDateTime)
        {
            return false;
        }
        var editors = await db.Editors.AsNoTracking().Where(e => !e.MuteEmptySlotWarnings).OrderBy(e => e.Email).ToListAsync(cancellationToken);
        // Claimed before sending, so two instances never both warn; a crash between the claim and the
        // send loses this one warning rather than risk sending it twice.
        if (editors.Count == 0 || !await ClaimSlotAsync(key, previous, value, cancellationToken))
        {
            return false;
        }
        var edition = editions.Value.Get(slot.Edition);
        var email = new EditorEmail(edition.From, $"Nothing queued for {edition.DisplayName} on {slot.Day}", EmptySlotText(edition, slot),
            $"empty-slot.{slot.Edition}.{slot.SlotUtc.ToUnixTimeSeconds()}");
        if (await mail.SendAsync(email, editors, cancellationToken) == 0)
        {
            await ReleaseSlotAsync(key, previous, value);
            return false;
        }
        LogWarned(logger, slot.Edition, slot.When, editors.Count);
        return true;
    }

    /// <summary>Emails the unmuted editors a summary of each publication that finished (completed, cancelled or
    /// stale) within <see cref="SummaryLookBack"/> and has none yet; returns how many were sent.</summary>
    public async Task<int> SendSummariesAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var since = now - SummaryLookBack;
        var finished = await db.Publications.AsNoTracking()
            .Where(p => p.SummarySentAt == null && p.CompletedAt != null && p.CompletedAt > since
                && (p.Status == PublicationStatus.Completed || p.Status == PublicationStatus.Cancelled || p.Status == PublicationStatus.Stale))
            .OrderBy(p => p.Id).ToListAsync(cancellationToken);
        if (finished.Count == 0)
        {
            return 0;
        }
        var editors = await db.Editors.AsNoTracking().Where(e => !e.MutePublicationSummaries).OrderBy(e => e.Email).ToListAsync(cancellationToken);
        if (editors.Count == 0)
        {
            return 0;
        }
        var sent = 0;
        foreach (var publication in finished)
        {
            var email = await SummaryAsync(publication, cancellationToken);
            // Checkpoint: the claim commits before the email goes, so one instance sends it; a crash in
            // between loses this summary (at most once), a send no editor got hands the claim back.
            var claimed = await db.Publications.Where(p => p.Id == publication.Id && p.SummarySentAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(p => p.SummarySentAt, now), cancellationToken);
            if (claimed == 0)
            {
                continue;
            }
            if (await mail.SendAsync(email, editors, cancellationToken) == 0)
            {
                await db.Publications.Where(p => p.Id == publication.Id)
                    .ExecuteUpdateAsync(u => u.SetProperty(p => p.SummarySentAt, (DateTime?)null), CancellationToken.None);
                // The mail server is likely down: the rest wait for the next check too.
                break;
            }
            LogSummarised(logger, publication.Id, editors.Count);
            sent++;
        }
        return sent;
    }

    /// <summary>Turns an editor's notification emails on or off; a null choice leaves that one as it is.</summary>
    public async Task<EditorChange> ChooseAsync(string email, bool? emptySlotWarnings, bool? summaries, CancellationToken cancellationToken)
    {
        var address = EmailAddress.Normalize(email);
        if (await db.Editors.FirstOrDefaultAsync(e => e.Email == address, cancellationToken) is not { } editor)
        {
            return new EditorChange(null, null, $"{address} is not an editor (see 'newsletter editors list')");
        }
        if (emptySlotWarnings is { } warnings)
        {
            editor.MuteEmptySlotWarnings = !warnings;
        }
        if (summaries is { } wanted)
        {
            editor.MutePublicationSummaries = !wanted;
        }
        await db.SaveChangesAsync(cancellationToken);
        return new EditorChange(editor, null, null);
    }

    /// <summary>"empty-slot warnings on, publication summaries off": an editor's choice, for the audit log and answers.</summary>
    public static string Describe(Editor editor) =>
        $"empty-slot warnings {(editor.MuteEmptySlotWarnings ? "off" : "on")}, publication summaries {(editor.MutePublicationSummaries ? "off" : "on")}";

    private async Task<bool> ClaimSlotAsync(string key, string? previous, string value, CancellationToken cancellationToken)
    {
        if (previous is not null)
        {
            return await db.Settings.Where(s => s.Key == key && s.Value == previous)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Value, value), cancellationToken) == 1;
        }
        db.Settings.Add(new Setting { Key = key, Value = value });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another instance claimed it first.
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    private async Task ReleaseSlotAsync(string key, string? previous, string value)
    {
        var ours = db.Settings.Where(s => s.Key == key && s.Value == value);
        if (previous is null)
        {
            await ours.ExecuteDeleteAsync(CancellationToken.None);
        }
        else
        {
            await ours.ExecuteUpdateAsync(u => u.SetProperty(s => s.Value, previous), CancellationToken.None);
        }
    }

    private string EmptySlotText(EditionOptions edition, EmptySlot slot)
    {
        var site = newsletter.Value.BaseUrl;
        return $"""
            Nothing is queued yet for {edition.DisplayName} on {slot.When}.

            If nothing is queued by then, the slot is skipped and readers get no {edition.DisplayName} that time.

            Write and queue an issue: {site}/admin/issues/write?edition={Uri.EscapeDataString(edition.Key)}
            (or from the command line: newsletter issues queue FILE)
            See every edition's coming slots: {site}/admin/plan

            You get this email because you are an editor of {newsletter.Value.Name}.
            Turn these warnings off: {site}/admin/account

            """;
    }

    private async Task<EditorEmail> SummaryAsync(Publication p, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        var site = newsletter.Value.BaseUrl;
        var edition = editions.Value.TryGet(p.Edition, out var e) ? e : null;
        var name = edition?.DisplayName ?? p.Edition;
        var subject = p.IssueId is null ? null
            : await db.Issues.AsNoTracking().Where(i => i.Id == p.IssueId).Select(i => i.Subject).FirstOrDefaultAsync(cancellationToken);
        var progress = await PublicationProgress.ReadAsync(db, p.Id, cancellationToken);
        var unsubscribes = (await PublicationResults.ReadAsync(db, p.Id, progress, cancellationToken)).Unsubscribed;
        var reasons = await db.Deliveries.Where(d => d.PublicationId == p.Id && d.Status == DeliveryStatus.Failed)
            .GroupBy(d => d.LastResult).Select(g => new { Reason = g.Key, Count = g.Count() })
            .OrderByDescending(g => g.Count).ThenBy(g => g.Reason).Take(3).ToListAsync(cancellationToken);
        var status = p.Status switch
        {
            PublicationStatus.Completed => "completed",
            PublicationStatus.Cancelled => "cancelled",
            _ => "stopped as stale",
        };
        var duration = p.CompletedAt!.Value - p.CreatedAt;

        var text = new StringBuilder();
        text.AppendLine(c, $"{name}, \"{subject ?? "(no issue)"}\" (publication {p.Id}): {status}.");
        text.AppendLine();
        text.AppendLine(c, $"Recipients:    {p.RecipientCount:N0}");
        text.AppendLine(c, $"Sent:          {progress.Sent:N0}");
        text.AppendLine(c, $"Failed:        {progress.Failed:N0}");
        text.AppendLine(c, $"Skipped:       {progress.Skipped:N0}");
        if (progress.Unsent > 0)
        {
            text.AppendLine(c, $"Not sent:      {progress.Unsent:N0} (the publication stopped first)");
        }
        text.AppendLine(c, $"Duration:      {PublicationProgress.FormatEta(duration)}");
        text.AppendLine(c, $"Unsubscribes:  {unsubscribes:N0} so far, through this issue's links");
        if (reasons.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Top failure reasons:");
            foreach (var r in reasons)
            {
                text.AppendLine(c, $"  {r.Count:N0} × {Cut(r.Reason ?? "(no reply)", 200)}");
            }
        }
        text.AppendLine();
        text.AppendLine(c, $"Details: {site}/admin/publications/{p.Id}");
        text.AppendLine();
        text.AppendLine(c, $"Turn these summaries off: {site}/admin/account");
        return new EditorEmail(edition?.From ?? FirstFrom(), $"{name} {status}: {subject ?? $"publication {p.Id}"}", text.ToString(),
            $"summary.{p.Id}");
    }

    private string FirstFrom() => editions.Value.Get(editions.Value.Keys[0]).From;

    private static string Cut(string value, int max) => value.Length > max ? value[..max] + "…" : value;

    [LoggerMessage(Level = LogLevel.Information, Message = "{Edition}: nothing queued for the slot {Slot}; {Editors} editor(s) emailed")]
    private static partial void LogWarned(ILogger logger, string edition, string slot, int editors);

    [LoggerMessage(Level = LogLevel.Information, Message = "Publication {Id}: summary emailed to {Editors} editor(s)")]
    private static partial void LogSummarised(ILogger logger, int id, int editors);
}
