using Newsletter.Subscribers.Lists;
using Newsletter.Subscribers.Model;
using Newsletter.Subscribers.Tokens;

namespace Newsletter.Subscribers.Lifecycle;

/// <summary>The preferences page: a reader's editions and name, behind their signed link.</summary>
public sealed partial class SubscriptionService
{
    /// <summary>The preferences page's data, or null for a bad token or a subscriber who no longer exists.</summary>
    public async Task<PreferencesView?> GetPreferencesAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (await ResolveAsync(token, TokenPurpose.Preferences, cancellationToken) is not { } reader)
        {
            return null;
        }
        var subscriber = await LoadAsync(reader.SubscriberId, tracking: false, cancellationToken);
        return subscriber is null ? null : Preferences(subscriber);
    }

    /// <summary>
    /// Saves a reader's choice of editions and name. Every edition added waits for a confirmation by
    /// email: whoever holds a forwarded email has the link, not the mailbox. A null <paramref name="name"/>,
    /// <paramref name="chosenEditions"/> or <paramref name="crisisRegion"/> leaves that choice as it was
    /// (an empty name clears it; no editions leaves them all).
    /// </summary>
    public async Task<PreferencesResult> SavePreferencesAsync(
        string? token, string? name, IReadOnlyCollection<string>? chosenEditions, string? ipAddress, string? userAgent,
        string? crisisRegion = null, CancellationToken cancellationToken = default)
    {
        if (await ResolveAsync(token, TokenPurpose.Preferences, cancellationToken) is not { } reader
            || await LoadAsync(reader.SubscriberId, tracking: true, cancellationToken) is not { } subscriber)
        {
            return new PreferencesResult(new Dictionary<string, string>(), null, [], null);
        }
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!SubscriberList.TryValidateName(name, out var nameError))
        {
            errors[SignupFields.Name] = char.ToUpperInvariant(nameError[0]) + nameError[1..] + ".";
        }
        var unknown = chosenEditions?.FirstOrDefault(k => !editions.Keys.Contains(k, StringComparer.Ordinal));
        if (unknown is not null)
        {
            errors[SignupFields.Editions] = $"There is no edition called {(unknown.Length > SubscriberModel.MaxEditionKeyLength || unknown.Any(char.IsControl) ? "that" : $"'{unknown}'")}.";
        }
        if (errors.Count > 0)
        {
            return new PreferencesResult(errors, Preferences(subscriber), [], null);
        }

        var now = Now;
        // Checkpoint: the choice, its consent evidence, and the confirmation email it calls for commit together.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var awaiting = new List<string>();
        foreach (var key in chosenEditions is null ? (IReadOnlyList<string>)[] : editions.Keys)
        {
            var wanted = chosenEditions!.Contains(key, StringComparer.Ordinal);
            var existing = subscriber.Subscriptions.FirstOrDefault(s => s.Edition == key);
            switch (wanted, existing?.Status)
            {
                case (true, null):
                    subscriber.Subscriptions.Add(new Subscription { Edition = key, Status = SubscriptionStatus.Pending, SubscribedAt = now });
                    awaiting.Add(key);
                    break;
                case (true, SubscriptionStatus.Unsubscribed):
                    existing!.Status = SubscriptionStatus.Pending;
                    existing.SubscribedAt = now;
                    awaiting.Add(key);
                    break;
                case (true, SubscriptionStatus.Pending):
                    awaiting.Add(key);
                    break;
                case (false, SubscriptionStatus.Active):
                case (false, SubscriptionStatus.Pending):
                    existing!.Status = SubscriptionStatus.Unsubscribed;
                    existing.UnsubscribedAt = now;
                    break;
            }
        }
        subscriber.Name = name is null ? subscriber.Name : SignupInput.CleanName(name);
        // Null leaves the region as it was (a form without the choice); the caller has checked the key.
        subscriber.CrisisRegion = Clip(crisisRegion) ?? subscriber.CrisisRegion;
        // Consent evidence for what was added: the confirmation email stamps the record.
        var newlyAwaiting = awaiting.Where(k => !subscriber.ConsentRecords.Any(c => c.ConfirmedAt == null && c.Editions.Split(',').Contains(k))).ToList();
        if (newlyAwaiting.Count > 0)
        {
            subscriber.ConsentRecords.Add(PreferencesConsent(newlyAwaiting, now, null, ipAddress, userAgent));
        }
        var row = awaiting.Count > 0
            ? await ReserveEmailAsync(subscriber, LifecycleEmailKind.ConfirmSubscription, awaiting, now, cancellationToken)
            : null;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var email = LifecycleEmail.Of(row);
        Queued(email);
        return new PreferencesResult(errors, Preferences(subscriber), awaiting, email);
    }

    private ConsentRecord PreferencesConsent(List<string> keys, DateTime now, DateTime? confirmedAt, string? ipAddress, string? userAgent) => new()
    {
        ConsentedAt = now,
        ConfirmedAt = confirmedAt,
        Source = "preferences",
        IpAddress = SignupInput.Clip(ipAddress, SubscriberModel.MaxIpAddressLength),
        UserAgent = SignupInput.Clip(userAgent, SubscriberModel.MaxUserAgentLength),
        ConsentTextVersion = Options.ConsentTextVersion,
        Editions = string.Join(',', keys),
    };
}
