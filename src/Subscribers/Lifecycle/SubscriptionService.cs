using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Tokens;

namespace Newsletter.Subscribers.Lifecycle;

/// <summary>
/// The subscriber lifecycle: double opt-in sign-up, confirmation, preferences and leaving. Works on
/// the host's DbContext through <c>Set&lt;T&gt;()</c>. Never sends email itself: a change that calls
/// for an email reserves the address's one-email-per-interval slot and writes the email to the
/// outbox in the same transaction as the change (both happen or neither), then tells
/// <see cref="IOutboxSignal"/> so a sender in this process starts at once.
/// </summary>
public sealed partial class SubscriptionService(
    DbContext db, IKnownEditions editions, LinkTokenSigner signer, IOptions<SubscriberOptions> options, TimeProvider time,
    AddressHasher hasher, IOutboxSignal? outboxSignal = null)
{
    private SubscriberOptions Options => options.Value;

    /// <summary>
    /// Records a sign-up: a pending subscriber (or pending editions for a known reader) and a consent
    /// record, and reserves a confirmation email. Rules: this unauthenticated request never changes what an
    /// earlier one chose (name, region, editions), pending or confirmed; what it adds waits for a link
    /// issued from now on; a suppressed address is silently ignored; the answer is the same in every case.
    /// </summary>
    public async Task<SignupResult> SubscribeAsync(SignupRequest request, CancellationToken cancellationToken = default)
    {
        var errors = SignupInput.Validate(request.Email, request.Name, request.Editions, editions, out var normalized, out var chosen);
        var consentVersion = request.ConsentTextVersion ?? Options.ConsentTextVersion;
        if (!IsValidConsentVersion(consentVersion))
        {
            errors[SignupFields.ConsentVersion] = "The consent text version is not one this form can have shown.";
        }
        if (errors.Count > 0)
        {
            return new SignupResult(errors, null);
        }

        var hash = hasher.Hash(normalized);
        if (await db.Set<Suppression>().AnyAsync(s => s.EmailHash == hash, cancellationToken))
        {
            return new SignupResult(errors, null);
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var email = await SubscribeCoreAsync(request, normalized, hash, chosen, consentVersion, cancellationToken);
                Queued(email);
                return new SignupResult(errors, email);
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // The same address signed up at the same moment (unique index): take the known-address path.
                db.ChangeTracker.Clear();
            }
        }
    }

    private async Task<LifecycleEmail?> SubscribeCoreAsync(
        SignupRequest request, string normalized, string hash, List<string> chosen, string consentVersion, CancellationToken cancellationToken)
    {
        var now = Now;
        var consent = new ConsentRecord
        {
            ConsentedAt = now,
            Source = SignupInput.Clip(request.Source, SubscriberModel.MaxSourceLength) ?? "unknown",
            IpAddress = SignupInput.Clip(request.IpAddress, SubscriberModel.MaxIpAddressLength),
            UserAgent = SignupInput.Clip(request.UserAgent, SubscriberModel.MaxUserAgentLength),
            ConsentTextVersion = consentVersion,
            Editions = string.Join(',', chosen),
        };
        // Checkpoint: the sign-up, its consent record, the address's email slot and the outbox row
        // commit together. A crash before the commit leaves nothing; after it, the email is owed and
        // the sender delivers it whichever process runs next.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var subscriber = await db.Set<Subscriber>().Include(s => s.Subscriptions)
            .FirstOrDefaultAsync(s => s.NormalizedEmail == normalized, cancellationToken);
        OutgoingEmail? email;

        if (subscriber is null)
        {
            subscriber = new Subscriber
            {
                Email = request.Email!.Trim(),
                NormalizedEmail = normalized,
                EmailHash = hash,
                Name = SignupInput.CleanName(request.Name),
                CrisisRegion = Clip(request.CrisisRegion),
                Status = SubscriberStatus.Pending,
                CreatedAt = now,
                LastEmailedAt = now,
                Subscriptions = [.. chosen.Select(k => new Subscription { Edition = k, Status = SubscriptionStatus.Pending, SubscribedAt = now })],
                ConsentRecords = [consent],
            };
            db.Add(subscriber);
            email = LifecycleOutbox.Queue(db, subscriber, LifecycleEmailKind.ConfirmSubscription, chosen, now, previousEmailedAt: null);
        }
        else if (subscriber.Status == SubscriberStatus.Pending)
        {
            // Anyone can send this request, so it leaves the earlier choice as it is: an earlier confirmation
            // link still confirms exactly what was chosen with it. Editions new here wait for this request's own link.
            foreach (var key in chosen.Where(k => subscriber.Subscriptions.All(s => s.Edition != k)))
            {
                subscriber.Subscriptions.Add(new Subscription { Edition = key, Status = SubscriptionStatus.Pending, SubscribedAt = now });
            }
            subscriber.ConsentRecords.Add(consent);
            email = await ReserveEmailAsync(subscriber, LifecycleEmailKind.ConfirmSubscription,
                [.. subscriber.Subscriptions.Select(s => s.Edition).Order(StringComparer.Ordinal)], now, cancellationToken);
        }
        else
        {
            // A confirmed reader. Editions they already get stay as they are; any other edition they
            // asked for (new, or one they left) waits for a fresh confirmation.
            var waiting = new List<string>();
            foreach (var key in chosen)
            {
                var existing = subscriber.Subscriptions.FirstOrDefault(s => s.Edition == key);
                if (existing is { Status: SubscriptionStatus.Active })
                {
                    continue;
                }
                if (existing is null)
                {
                    subscriber.Subscriptions.Add(new Subscription { Edition = key, Status = SubscriptionStatus.Pending, SubscribedAt = now });
                }
                else if (existing.Status != SubscriptionStatus.Pending)
                {
                    existing.Status = SubscriptionStatus.Pending;
                    existing.SubscribedAt = now;
                }
                waiting.Add(key);
            }
            if (waiting.Count > 0)
            {
                consent.Editions = string.Join(',', waiting);
                subscriber.ConsentRecords.Add(consent);
                email = await ReserveEmailAsync(subscriber, LifecycleEmailKind.ConfirmSubscription, PendingEditions(subscriber), now, cancellationToken);
            }
            else
            {
                email = await ReserveEmailAsync(subscriber, LifecycleEmailKind.AlreadySubscribed, ActiveEditions(subscriber), now, cancellationToken);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return LifecycleEmail.Of(email);
    }

    /// <summary>What the confirmation page shows for a token, changing nothing. A link covers what was waiting
    /// when it was issued (<see cref="CoveredBy"/>), never what was asked for after it.</summary>
    public async Task<ConfirmView> InspectConfirmationAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (!signer.TryVerify(token, TokenPurpose.Confirm, out var link))
        {
            return ConfirmView.Of(ConfirmState.Invalid);
        }
        var reader = await FindAsync(link, cancellationToken);
        if (reader is { Revoked: true })
        {
            return ConfirmView.Of(ConfirmState.Invalid);
        }
        var subscriber = reader is null ? null : await LoadAsync(reader.SubscriberId, tracking: false, cancellationToken);
        if (subscriber is null)
        {
            return ConfirmView.Of(ConfirmState.Gone);
        }
        var view = View(subscriber, ConfirmState.Pending, IssuedAt(link));
        if (view.PendingEditions.Count == 0 && subscriber.Status == SubscriberStatus.Confirmed)
        {
            return view with { State = ConfirmState.Confirmed };
        }
        return IsExpired(link) ? view with { State = ConfirmState.Expired } : view;
    }

    /// <summary>Confirms what the token's holder asked for: the editions and consent waiting when the link was issued,
    /// not those a later request added (they wait for their own link). Repeating it changes nothing more. The first
    /// confirmation of a reader (pending → confirmed) also queues their welcome, in the same transaction:
    /// a reader is welcomed once, never again when they add an edition or come back to one they left.</summary>
    public async Task<ConfirmView> ConfirmAsync(string? token, CancellationToken cancellationToken = default)
    {
        var inspected = await InspectConfirmationAsync(token, cancellationToken);
        if (inspected.State != ConfirmState.Pending)
        {
            return inspected;
        }
        _ = signer.TryVerify(token, TokenPurpose.Confirm, out var link);
        var issuedAt = IssuedAt(link);
        var now = Now;
        // Checkpoint: the subscriber, their waiting editions, the consent evidence and the welcome commit together.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var subscriber = (await LoadAsync(inspected.SubscriberId, tracking: true, cancellationToken))!;
        foreach (var subscription in subscriber.Subscriptions.Where(s => s.Status == SubscriptionStatus.Pending && CoveredBy(s, issuedAt)))
        {
            subscription.Status = SubscriptionStatus.Active;
            subscription.SubscribedAt = now;
        }
        foreach (var consent in subscriber.ConsentRecords.Where(c => c.ConfirmedAt == null && c.ConsentedAt <= issuedAt))
        {
            consent.ConfirmedAt = now;
        }
        OutgoingEmail? welcome = null;
        if (subscriber.Status == SubscriberStatus.Pending)
        {
            // The condition is in the UPDATE itself: of two confirmations at once, only one welcomes.
            var turned = await db.Set<Subscriber>().Where(s => s.Id == subscriber.Id && s.Status == SubscriberStatus.Pending)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriberStatus.Confirmed).SetProperty(s => s.ConfirmedAt, now), cancellationToken);
            subscriber.Status = SubscriberStatus.Confirmed;
            subscriber.ConfirmedAt = now;
            if (turned == 1)
            {
                welcome = QueueWelcome(subscriber, now);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Queued(LifecycleEmail.Of(welcome));
        return View(subscriber, ConfirmState.Confirmed, issuedAt);
    }

    /// <summary>
    /// The welcome, naming the editions the reader has now (not those still waiting for another link). It takes no email slot (the reader just asked
    /// for it by confirming, so a change of editions right after still gets its confirmation at once) and
    /// is never replaced by a later sign-up email.
    /// </summary>
    private OutgoingEmail QueueWelcome(Subscriber subscriber, DateTime now)
    {
        var editionKeys = subscriber.Subscriptions.Where(s => s.Status == SubscriptionStatus.Active)
            .Select(s => s.Edition).Order(StringComparer.Ordinal).ToList();
        // PreviousEmailedAt is the slot as it is: giving up on the welcome then gives back nothing it did not take.
        return LifecycleOutbox.Queue(db, subscriber, LifecycleEmailKind.Welcome, editionKeys, now, subscriber.LastEmailedAt);
    }

    /// <summary>A new confirmation link for the holder of an old (typically expired) one. The email
    /// is null when nothing waits or the address had an email within the interval.</summary>
    public async Task<(ConfirmView View, LifecycleEmail? Email)> ResendConfirmationAsync(string? token, CancellationToken cancellationToken = default)
    {
        var inspected = await InspectConfirmationAsync(token, cancellationToken);
        if (inspected.State is not (ConfirmState.Expired or ConfirmState.Pending))
        {
            return (inspected, null);
        }
        var subscriber = (await LoadAsync(inspected.SubscriberId, tracking: false, cancellationToken))!;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var row = await ReserveEmailAsync(subscriber, LifecycleEmailKind.ConfirmSubscription, PendingEditions(subscriber), Now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var email = LifecycleEmail.Of(row);
        Queued(email);
        return (inspected, email);
    }

    /// <summary>Ends every subscription, active or waiting. Idempotent; false when there was nothing to end.</summary>
    public async Task<bool> UnsubscribeAllAsync(int subscriberId, CancellationToken cancellationToken = default)
    {
        var now = Now;
        var changed = await db.Set<Subscription>()
            .Where(s => s.SubscriberId == subscriberId && (s.Status == SubscriptionStatus.Active || s.Status == SubscriptionStatus.Pending))
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed)
                .SetProperty(s => s.UnsubscribedAt, now), cancellationToken);
        return changed > 0;
    }

    public static bool IsValidConsentVersion(string? version) =>
        version is { Length: > 0 and <= SubscriberModel.MaxConsentTextVersionLength }
        && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private DateTime Now
    {
        get
        {
            // Whole seconds: tokens carry Unix seconds, and stored times then compare exactly with them.
            var now = time.GetUtcNow().UtcDateTime;
            return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        }
    }

    private static DateTime IssuedAt(LinkToken link) => DateTimeOffset.FromUnixTimeSeconds(link.IssuedAtUnixSeconds).UtcDateTime;

    /// <summary>Whether a confirmation link issued at <paramref name="issuedAt"/> confirms a waiting edition: asked for
    /// at or before that moment. Times are whole seconds, as in the link.</summary>
    private static bool CoveredBy(Subscription subscription, DateTime issuedAt) => subscription.SubscribedAt <= issuedAt;

    private bool IsExpired(LinkToken link) =>
        DateTimeOffset.FromUnixTimeSeconds(link.IssuedAtUnixSeconds).AddDays(Options.ConfirmationLinkLifetimeDays) < time.GetUtcNow();

    private Task<Subscriber?> LoadAsync(int id, bool tracking, CancellationToken cancellationToken)
    {
        var query = db.Set<Subscriber>().Include(s => s.Subscriptions).Include(s => s.ConsentRecords).AsSplitQuery();
        return (tracking ? query : query.AsNoTracking()).FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
    }

    /// <summary>
    /// Takes the address's email slot if the last email was at least the interval ago, and adds the
    /// email to the outbox (saved by the caller's SaveChanges, inside the caller's transaction).
    /// Null when the slot was taken: nothing is queued.
    /// </summary>
    private async Task<OutgoingEmail?> ReserveEmailAsync(
        Subscriber subscriber, LifecycleEmailKind kind, IReadOnlyList<string> editionKeys, DateTime now, CancellationToken cancellationToken)
    {
        var earliest = now - Options.EmailInterval;
        var previous = await db.Set<Subscriber>().Where(s => s.Id == subscriber.Id).Select(s => s.LastEmailedAt).FirstAsync(cancellationToken);
        // The condition is in the UPDATE itself: of two requests at once, only one takes the slot.
        var taken = await db.Set<Subscriber>()
            .Where(s => s.Id == subscriber.Id && (s.LastEmailedAt == null || s.LastEmailedAt <= earliest))
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastEmailedAt, now), cancellationToken);
        if (taken != 1)
        {
            return null;
        }
        await LifecycleOutbox.SupersedeAsync(db, subscriber.Id, now, cancellationToken);
        return LifecycleOutbox.Queue(db, subscriber, kind, editionKeys, now, previous);
    }

    private void Queued(LifecycleEmail? email)
    {
        if (email is not null)
        {
            outboxSignal?.Notify();
        }
    }

    private static List<string> PendingEditions(Subscriber s) =>
        [.. s.Subscriptions.Where(x => x.Status == SubscriptionStatus.Pending || (s.Status == SubscriberStatus.Pending && x.Status == SubscriptionStatus.Active))
            .Select(x => x.Edition).Order(StringComparer.Ordinal)];

    private static List<string> ActiveEditions(Subscriber s) =>
        [.. s.Subscriptions.Where(x => x.Status == SubscriptionStatus.Active).Select(x => x.Edition).Order(StringComparer.Ordinal)];

    /// <summary>The confirmation page's view of what a link issued at <paramref name="issuedAt"/> confirms.</summary>
    private static ConfirmView View(Subscriber s, ConfirmState state, DateTime issuedAt) => new(
        state, s.Id,
        [.. s.Subscriptions.Where(x => (x.Status == SubscriptionStatus.Pending && CoveredBy(x, issuedAt))
                                       || (s.Status == SubscriberStatus.Pending && x.Status == SubscriptionStatus.Active))
            .Select(x => x.Edition).Order(StringComparer.Ordinal)],
        ActiveEditions(s), s.LinkKey);

    private PreferencesView Preferences(Subscriber s) => new(
        s.Id, s.LinkKey, s.Email, s.Name, s.Status,
        [.. editions.Keys.Select(k => new EditionChoice(k, s.Subscriptions.FirstOrDefault(x => x.Edition == k)?.Status))],
        ActivePause(s.PausedUntil), s.CrisisRegion);
}
