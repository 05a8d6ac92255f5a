using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Admin.Readers;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Admin;

/// <summary>The readers list's query on a real SQLite file: substring search, edition and state filters, keyset pages.</summary>
public sealed class ReaderSearchTests
{
    private static readonly DateTime Now = new(2026, 11, 2, 14, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Search_matches_part_of_the_address_or_the_name_in_any_case_and_takes_wildcards_literally()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        await using var db = app.OpenDb();
        Add(db, "Kim.Lee@Example.org", "Kim");
        Add(db, "sam@example.org", "Sam Kimball");
        Add(db, "pat@example.org", "Pat");
        Add(db, "under_score@example.org", null);
        Add(db, "under-score@example.org", "100% sure");
        await db.SaveChangesAsync();
        var search = new ReaderSearch(db);

        Assert.Equal(["sam@example.org", "Kim.Lee@Example.org"], await Emails(search, new ReaderQuery("KIM")));
        Assert.Equal(["Kim.Lee@Example.org"], await Emails(search, new ReaderQuery("lee@EXAMPLE")));
        Assert.Equal(["under_score@example.org"], await Emails(search, new ReaderQuery("under_")));
        Assert.Equal(["under-score@example.org"], await Emails(search, new ReaderQuery("0%")));
        Assert.Empty(await Emails(search, new ReaderQuery("sure%")));
        Assert.Empty(await Emails(search, new ReaderQuery("1_0")));
        Assert.Equal(5, (await search.FindAsync(new ReaderQuery("  "))).Total);
    }

    [Fact]
    public async Task Filters_find_each_state_in_one_edition_or_in_any()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        await using var db = app.OpenDb();
        Add(db, "confirmed@example.org", null, SubscriberStatus.Confirmed, ("weekly-tip", SubscriptionStatus.Active));
        Add(db, "pending@example.org", null, SubscriberStatus.Pending, ("weekly-tip", SubscriptionStatus.Active));
        Add(db, "returning@example.org", null, SubscriberStatus.Confirmed,
            ("weekly-tip", SubscriptionStatus.Pending), ("weekly-fact", SubscriptionStatus.Active));
        Add(db, "left-one@example.org", null, SubscriberStatus.Confirmed,
            ("weekly-tip", SubscriptionStatus.Unsubscribed), ("weekly-fact", SubscriptionStatus.Active));
        Add(db, "left-all@example.org", null, SubscriberStatus.Confirmed, ("weekly-fact", SubscriptionStatus.Unsubscribed));
        Add(db, "suppressed@example.org", null, SubscriberStatus.Confirmed, ("weekly-fact", SubscriptionStatus.Active));
        db.Suppressions.Add(new Suppression { EmailHash = TestApp.AddressHash("suppressed@example.org"), Reason = SuppressionReason.Manual, CreatedAt = Now });
        await db.SaveChangesAsync();
        var search = new ReaderSearch(db);

        Assert.Equal(["returning@example.org", "pending@example.org"], await Emails(search, new ReaderQuery(State: ReaderState.Pending)));
        Assert.Equal(["returning@example.org", "pending@example.org"], await Emails(search, new ReaderQuery(Edition: "weekly-tip", State: ReaderState.Pending)));
        Assert.Equal(["confirmed@example.org"], await Emails(search, new ReaderQuery(Edition: "weekly-tip", State: ReaderState.Confirmed)));
        Assert.Equal(["suppressed@example.org", "left-one@example.org", "returning@example.org", "confirmed@example.org"],
            await Emails(search, new ReaderQuery(State: ReaderState.Confirmed)));
        Assert.Equal(["left-one@example.org"], await Emails(search, new ReaderQuery(Edition: "weekly-tip", State: ReaderState.Unsubscribed)));
        Assert.Equal(["left-all@example.org"], await Emails(search, new ReaderQuery(State: ReaderState.Unsubscribed)));
        Assert.Equal(["suppressed@example.org"], await Emails(search, new ReaderQuery(State: ReaderState.Suppressed)));
        Assert.Empty(await Emails(search, new ReaderQuery(Edition: "weekly-tip", State: ReaderState.Suppressed)));
        Assert.Equal(["left-one@example.org", "returning@example.org", "pending@example.org", "confirmed@example.org"],
            await Emails(search, new ReaderQuery(Edition: "weekly-tip")));

        var row = (await search.FindAsync(new ReaderQuery("left-one"))).Rows.Single();
        Assert.Equal([new EditionState("weekly-fact", "confirmed"), new EditionState("weekly-tip", "left")], row.Editions);
        Assert.True((await search.FindAsync(new ReaderQuery("suppressed"))).Rows.Single().Suppressed);
    }

    [Fact]
    public async Task Pages_of_fifty_go_newest_first_forward_and_back_with_the_total()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        await using var db = app.OpenDb();
        for (var i = 1; i <= 120; i++)
        {
            Add(db, $"reader{i:000}@example.org", i % 2 == 0 ? "Even" : "Odd");
        }
        await db.SaveChangesAsync();
        var search = new ReaderSearch(db);

        var first = await search.FindAsync(new ReaderQuery());
        var second = await search.FindAsync(new ReaderQuery(After: first.NextAfter));
        var third = await search.FindAsync(new ReaderQuery(After: second.NextAfter));
        var back = await search.FindAsync(new ReaderQuery(Before: third.PreviousBefore));
        var backToFirst = await search.FindAsync(new ReaderQuery(Before: back.PreviousBefore));
        var evens = await search.FindAsync(new ReaderQuery("even"));
        var evensNext = await search.FindAsync(new ReaderQuery("even", After: evens.NextAfter));

        Assert.Equal(120, first.Total);
        Assert.Equal(Range(120, 71), Numbers(first));
        Assert.Null(first.PreviousBefore);
        Assert.Equal(Range(70, 21), Numbers(second));
        Assert.Equal(Range(20, 1), Numbers(third));
        Assert.Null(third.NextAfter);
        Assert.NotNull(third.PreviousBefore);
        Assert.Equal(Numbers(second), Numbers(back));
        Assert.NotNull(back.NextAfter);
        Assert.Equal(Numbers(first), Numbers(backToFirst));
        Assert.Null(backToFirst.PreviousBefore);
        Assert.Equal(60, evens.Total);
        Assert.Equal(10, evensNext.Rows.Count);
        Assert.All(evensNext.Rows, r => Assert.Equal("Even", r.Name));
        Assert.Null(evensNext.NextAfter);

        static List<int> Range(int from, int to) => [.. Enumerable.Range(to, from - to + 1).Reverse()];
        static List<int> Numbers(ReaderPage page) => [.. page.Rows.Select(r => int.Parse(r.Email[6..9], System.Globalization.CultureInfo.InvariantCulture))];
    }

    private static async Task<List<string>> Emails(ReaderSearch search, ReaderQuery query) =>
        [.. (await search.FindAsync(query)).Rows.Select(r => r.Email)];

    private static void Add(NewsletterDbContext db, string email, string? name,
        SubscriberStatus status = SubscriberStatus.Confirmed, params (string Edition, SubscriptionStatus Status)[] subscriptions) =>
        db.Subscribers.Add(new Subscriber
        {
            Email = email,
            NormalizedEmail = EmailAddress.Normalize(email),
            EmailHash = TestApp.AddressHash(email),
            Name = name,
            Status = status,
            CreatedAt = Now,
            Subscriptions = [.. subscriptions.Select(s => new Subscription { Edition = s.Edition, Status = s.Status, SubscribedAt = Now })],
        });
}
