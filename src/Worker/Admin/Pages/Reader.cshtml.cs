using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Lifecycle;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.PersonalData;
using Newsletter.Subscribers.Suppressions;
using Newsletter.Worker.Admin.Readers;
using Newsletter.Worker.Data;
using Newsletter.Worker.Editions;
using Newsletter.Worker.Editors;

namespace Newsletter.Worker.Admin.Pages;

/// <summary>One reader: subscriptions, consent, deliveries, suppression; change editions, suppress, export or erase, each audited.</summary>
public sealed class ReaderModel(
    NewsletterDbContext db, ReaderEditions readerEditions, SuppressionList suppressions, IDeliveryHistory deliveries,
    IOptions<EditionsOptions> editions, AuditLog audit, TimeProvider time) : EditorPage
{
    public const int LatestDeliveries = 20;

    public Subscriber? Reader { get; private set; }

    public Suppression? Suppression { get; private set; }

    public IReadOnlyList<DeliveryHistoryEntry> Deliveries { get; private set; } = [];

    public int DeliveryCount { get; private set; }

    /// <summary>The latest bounces and complaints about this reader, newest first.</summary>
    public IReadOnlyList<Bounce> Bounces { get; private set; } = [];

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    public IReadOnlyList<(string Key, string Name)> Editions =>
        [.. editions.Value.Keys.Select(k => (k, editions.Value.Get(k).DisplayName))];

    public Task<IActionResult> OnGetAsync(int id, CancellationToken cancellationToken) => ShowAsync(id, cancellationToken);

    public Task<IActionResult> OnPostSubscribeAsync(int id, string? edition, CancellationToken cancellationToken) =>
        ChangeAsync(id, "reader subscribed", $"to {edition}", () => readerEditions.SubscribeAsync(id, edition, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostUnsubscribeAsync(int id, string? edition, CancellationToken cancellationToken) =>
        ChangeAsync(id, "reader unsubscribed", $"from {edition}", () => readerEditions.UnsubscribeAsync(id, edition, cancellationToken), cancellationToken);

    public async Task<IActionResult> OnPostSuppressAsync(int id, string? reason, string? note, CancellationToken cancellationToken)
    {
        SuppressionReason? why = reason switch
        {
            "manual" => SuppressionReason.Manual,
            "hard-bounce" => SuppressionReason.HardBounce,
            "complaint" => SuppressionReason.Complaint,
            _ => null,
        };
        return await ChangeAsync(id, "reader suppressed", $"({reason})", async () =>
        {
            if (why is null)
            {
                return new ReaderChange(false, $"unknown reason '{reason}': use manual, hard-bounce or complaint");
            }
            var result = await suppressions.SuppressAsync(Reader!.Email, why.Value, string.IsNullOrWhiteSpace(note) ? null : note.Trim(), cancellationToken: cancellationToken);
            return result.Outcome switch
            {
                SuppressOutcome.Added => new ReaderChange(true, null),
                SuppressOutcome.AlreadySuppressed => new ReaderChange(false, "the address is already suppressed"),
                _ => new ReaderChange(false, result.Error),
            };
        }, cancellationToken);
    }

    /// <summary>A break the reader asked for by another route (a reply, a phone call): as their own pages offer it.</summary>
    public Task<IActionResult> OnPostPauseAsync(int id, string? length, [FromServices] SubscriptionService service, CancellationToken cancellationToken) =>
        ChangeAsync(id, "reader paused", $"for {length}", async () =>
            length is null || !SubscriptionService.PauseChoices.TryGetValue(length, out var chosen)
                ? new ReaderChange(false, $"unknown length '{length}': use 2w, 1m or 3m")
                : await service.PauseAsync(id, chosen, cancellationToken) is { } until
                    ? new ReaderChange(true, null)
                    : new ReaderChange(false, "there is no such reader"), cancellationToken);

    public Task<IActionResult> OnPostResumeAsync(int id, [FromServices] SubscriptionService service, CancellationToken cancellationToken) =>
        ChangeAsync(id, "reader resumed", null, async () => PausedUntil is null
            ? new ReaderChange(false, "the reader was not paused")
            : new ReaderChange(await service.ResumeAsync(id, cancellationToken), "there is no such reader"), cancellationToken);

    /// <summary>For a reader whose email went astray (forwarded, a shared inbox): their links so far stop
    /// opening anything but an unsubscribe; links in the next email work.</summary>
    public Task<IActionResult> OnPostRevokeLinksAsync(int id, [FromServices] SubscriptionService service, CancellationToken cancellationToken) =>
        ChangeAsync(id, "reader links revoked", null, async () =>
            new ReaderChange(await service.RevokeLinksAsync(id, cancellationToken), "there is no such reader"), cancellationToken);

    /// <summary>When the reader's pause ends; null when none is running.</summary>
    public DateTime? PausedUntil => Reader?.PausedUntil > time.GetUtcNow().UtcDateTime ? Reader.PausedUntil : null;

    public Task<IActionResult> OnPostUnsuppressAsync(int id, CancellationToken cancellationToken) =>
        ChangeAsync(id, "reader unsuppressed", null, async () => await suppressions.UnsuppressAsync(Reader!.Email, cancellationToken)
            ? new ReaderChange(true, null)
            : new ReaderChange(false, "the address was not suppressed"), cancellationToken);

    /// <summary>Everything held about the reader, as <c>newsletter subscribers export-data</c> prints it.</summary>
    public async Task<IActionResult> OnPostExportDataAsync(int id, [FromServices] PersonalDataService personalData, CancellationToken cancellationToken)
    {
        var email = await db.Subscribers.Where(s => s.Id == id).Select(s => s.Email).FirstOrDefaultAsync(cancellationToken);
        if (email is null || await personalData.ExportAsync(email, cancellationToken) is not { } export)
        {
            return NotFound();
        }
        await audit.RecordAsync(User.Identity!.Name!, "reader data exported", EmailAddress.Normalize(email), null, cancellationToken);
        return File(JsonSerializer.SerializeToUtf8Bytes(export, PersonalDataJson.Options), "application/json", $"reader-{id}.json");
    }

    public static string ReasonWord(SuppressionReason reason) => reason switch
    {
        SuppressionReason.HardBounce => "hard bounce",
        SuppressionReason.SoftBounces => "repeated soft bounces",
        _ => reason.ToString().ToLowerInvariant(),
    };

    private async Task<IActionResult> ChangeAsync(
        int id, string action, string? what, Func<Task<ReaderChange>> change, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        var result = await change();
        var address = Reader!.NormalizedEmail;
        if (result.Changed)
        {
            await audit.RecordAsync(User.Identity!.Name!, action, what is null ? address : $"{address} {what}", null, cancellationToken);
            Message = $"Done: {action.Replace("reader ", "", StringComparison.Ordinal)}{(what is null ? "" : " " + what)}.";
        }
        else
        {
            Problem = $"Nothing changed: {result.Error}.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        await LoadAsync(id, cancellationToken);
        return Page();
    }

    private async Task<IActionResult> ShowAsync(int id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    private async Task<bool> LoadAsync(int id, CancellationToken cancellationToken)
    {
        Reader = await db.Subscribers.AsNoTracking().Include(s => s.Subscriptions).Include(s => s.ConsentRecords).AsSplitQuery()
            .FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (Reader is null)
        {
            return false;
        }
        var hash = Reader.EmailHash;
        Suppression = await db.Suppressions.AsNoTracking().FirstOrDefaultAsync(s => s.EmailHash == hash, cancellationToken);
        var history = await deliveries.ForSubscriberAsync(id, cancellationToken);
        DeliveryCount = history.Count;
        Deliveries = [.. history.Reverse().Take(LatestDeliveries)];
        Bounces = await db.Bounces.AsNoTracking().Where(b => b.SubscriberId == id)
            .OrderByDescending(b => b.ReceivedAt).ThenByDescending(b => b.Id).Take(LatestDeliveries).ToListAsync(cancellationToken);
        return true;
    }
}
