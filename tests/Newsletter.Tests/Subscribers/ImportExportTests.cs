using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;
using Newsletter.Tests.Infrastructure;

namespace Newsletter.Tests.Subscribers;

/// <summary>`subscribers import` and `subscribers export`, run as the CLI on a real SQLite file.</summary>
public sealed class ImportExportTests
{
    private const string Header = "email,name,editions,consented_at,source\n";

    [Fact]
    public async Task Rows_with_consent_evidence_import_as_confirmed_and_rows_without_it_as_pending()
    {
        await using var app = TestApp.Create();
        var file = app.WriteFile("list.csv", Header +
            "Ada@Example.org,Ada,weekly-tip;weekly-fact,2025-03-14T09:30:00Z,shop checkout\n" +
            "bo@example.org,,all,2025-03-15,\n" +
            "cy@example.org,\"Cy, the third\",monthly-spotlight,,old list\n");

        var result = await app.RunCliAsync("subscribers", "import", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("3 row(s): imported 3 (2 confirmed, 1 pending without consent evidence), 0 already on the list, 0 refused", result.Out);
        await using var db = app.OpenDb();
        var all = await db.Subscribers.Include(s => s.Subscriptions).Include(s => s.ConsentRecords).OrderBy(s => s.Id).ToListAsync();
        Assert.Equal(["Ada@Example.org", "bo@example.org", "cy@example.org"], all.Select(s => s.Email));
        var ada = all[0];
        Assert.Equal((SubscriberStatus.Confirmed, new DateTime(2025, 3, 14, 9, 30, 0, DateTimeKind.Utc)), (ada.Status, ada.ConfirmedAt));
        Assert.Equal(["weekly-fact", "weekly-tip"], ada.Subscriptions.Select(s => s.Edition).Order());
        Assert.All(ada.Subscriptions, s => Assert.Equal(SubscriptionStatus.Active, s.Status));
        Assert.Equal(("import: shop checkout", "weekly-tip,weekly-fact"), (ada.ConsentRecords[0].Source, ada.ConsentRecords[0].Editions));
        Assert.Equal(3, all[1].Subscriptions.Count);
        Assert.Equal("import", all[1].ConsentRecords[0].Source);
        var cy = all[2];
        Assert.Equal((SubscriberStatus.Pending, "Cy, the third"), (cy.Status, cy.Name));
        Assert.Empty(cy.ConsentRecords);
        Assert.Equal(SubscriptionStatus.Pending, Assert.Single(cy.Subscriptions).Status);
    }

    [Fact]
    public async Task Importing_the_same_file_again_changes_nothing()
    {
        await using var app = TestApp.Create();
        var file = app.WriteFile("list.csv", Header + "ada@example.org,Ada,weekly-tip,2025-03-14,\nbo@example.org,Bo,weekly-fact,,\n");
        await app.RunCliOkAsync("subscribers", "import", file);
        var before = await ListSnapshot.TakeAsync(app);

        var again = await app.RunCliAsync("subscribers", "import", file);

        Assert.Equal(0, again.ExitCode);
        Assert.Contains("imported 0", again.Out);
        Assert.Contains("2 already on the list", again.Out);
        Assert.Equal(before, await ListSnapshot.TakeAsync(app));
    }

    [Fact]
    public async Task A_dry_run_reports_what_would_happen_and_changes_nothing()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        var file = app.WriteFile("list.csv", Header + "ada@example.org,Ada,weekly-tip,2025-03-14,\nnot-an-address,,weekly-tip,,\n");

        var result = await app.RunCliAsync("subscribers", "import", file, "--dry-run");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("would import 1", result.Out);
        Assert.Contains("line 3:", result.Error);
        Assert.Equal(0, await ListSnapshot.CountAsync(app));
    }

    /// <summary>One bad row each: (case, the row, what the report says about line 2).</summary>
    public static TheoryData<string, string, string> BadRows => new()
    {
        { "malformed address", "not-an-address,,weekly-tip,,", "line 2: 'not-an-address' is not an email address" },
        { "overlong address", $"{new string('a', 64)}@{string.Join('.', Enumerable.Repeat(new string('b', 60), 4))}.org,,weekly-tip,,", "the limit is 254" },
        { "CR/LF in the name", "a@example.org,\"Sam\r\nBcc: b@example.org\",weekly-tip,,", "line 2: the name contains a line break or control character" },
        { "overlong name", $"a@example.org,{new string('n', 101)},weekly-tip,,", "line 2: the name is 101 characters long; the limit is 100" },
        { "unknown edition", "a@example.org,,weekly-gossip,,", "line 2: unknown edition 'weekly-gossip'" },
        { "no editions", "a@example.org,,,,", "line 2: no editions given" },
        { "bad consent date", "a@example.org,,weekly-tip,last tuesday,", "line 2: consented_at 'last tuesday' is not a date" },
        { "consent in the future", "a@example.org,,weekly-tip,2999-01-01,", "line 2: consented_at 2999-01-01 is in the future" },
        { "too many fields", "a@example.org,,weekly-tip,,,extra", "line 2: 6 fields, but the header has 5" },
        { "control character in the source", "a@example.org,,weekly-tip,2025-01-01,\"x\u0007y\"", "line 2: source must be one line" },
    };

    [Theory]
    [MemberData(nameof(BadRows))]
    public async Task A_bad_row_is_reported_with_its_line_and_reason_and_nothing_is_imported(string why, string row, string reported)
    {
        await using var app = TestApp.Create();
        var file = app.WriteFile("bad.csv", Header + row + "\n");

        var result = await app.RunCliAsync("subscribers", "import", file);

        Assert.True(result.ExitCode == 1, $"{why}: {result}");
        Assert.Contains(reported, result.Error);
        Assert.Contains("1 refused", result.Out);
        Assert.Equal(0, await ListSnapshot.CountAsync(app));
    }

    [Fact]
    public async Task Duplicates_in_the_file_and_suppressed_addresses_are_refused_while_the_valid_rows_are_imported()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "known@example.org", "--confirmed");
        await app.RunCliOkAsync("subscribers", "suppress", "gone@example.org");
        var file = app.WriteFile("mixed.csv", Header +
            "ada@example.org,Ada,weekly-tip,2025-01-01,\n" +        // line 2: imported
            "ADA@example.org,Ada again,weekly-tip,2025-01-01,\n" +  // line 3: duplicate of line 2
            "known@example.org,,weekly-tip,2025-01-01,\n" +         // line 4: already on the list (skipped)
            "gone@example.org,,weekly-tip,2025-01-01,\n" +          // line 5: suppressed
            "bo@example.org,Bo,weekly-fact,,\n");                   // line 6: imported, pending

        var result = await app.RunCliAsync("subscribers", "import", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("mixed.csv: line 3: ada@example.org is already on line 2 of this file", result.Error);
        Assert.Contains("mixed.csv: line 5: gone@example.org is on the suppression list", result.Error);
        Assert.DoesNotContain("line 4", result.Error);
        Assert.Contains("5 row(s): imported 2 (1 confirmed, 1 pending without consent evidence), 1 already on the list, 2 refused", result.Out);
        await using var db = app.OpenDb();
        Assert.Equal(["ada@example.org", "bo@example.org", "known@example.org"], (await db.Subscribers.Select(s => s.NormalizedEmail).ToListAsync()).Order());
    }

    public static TheoryData<string, string, string> BadFiles => new()
    {
        { "a quote that never closes", Header + "ada@example.org,\"Ada,weekly-tip,2025-01-01,\nbo@example.org,Bo,weekly-tip,,\n", "line 2: the CSV is malformed" },
        { "a stray quote", Header + "ada@example.org,Ad\"a,weekly-tip,2025-01-01,\n", "line 2: the CSV is malformed" },
        { "text after a closing quote", Header + "ada@example.org,\"Ada\"x,weekly-tip,2025-01-01,\n", "line 2: the CSV is malformed" },
        { "an unknown column", "email,nmae\nada@example.org,Ada\n", "line 1: unknown column 'nmae'" },
        { "no email column", "name,editions\nAda,weekly-tip\n", "line 1: the header has no 'email' column" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_file_that_cannot_be_read_as_a_whole_is_refused_and_nothing_is_imported(string why, string content, string reported)
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "known@example.org", "--confirmed");
        var before = await ListSnapshot.TakeAsync(app);
        var file = app.WriteFile("broken.csv", content);

        var result = await app.RunCliAsync("subscribers", "import", file);

        Assert.True(result.ExitCode == 1, $"{why}: {result}");
        Assert.Contains(reported, result.Error);
        Assert.Contains("Nothing was imported.", result.Error);
        Assert.Equal(before, await ListSnapshot.TakeAsync(app));
    }

    [Fact]
    public async Task Export_writes_the_list_as_CSV_that_imports_into_another_list_unchanged()
    {
        await using var app = TestApp.Create();
        var source = app.WriteFile("list.csv", Header +
            "ada@example.org,Ada,weekly-tip;weekly-fact,2025-03-14T09:30:00Z,shop\n" +
            "bo@example.org,\"=HYPERLINK(\"\"x\"\")\",weekly-fact,2025-02-01,\n" +
            "cy@example.org,Cy,monthly-spotlight,,\n");
        await app.RunCliOkAsync("subscribers", "import", source);

        var stdout = await app.RunCliOkAsync("subscribers", "export");
        var path = Path.Combine(app.Directory, "out", "export.csv");
        await app.RunCliOkAsync("subscribers", "export", "--out", path);

        var lines = stdout.Out.TrimEnd('\n').Split('\n');
        Assert.Equal("email,name,editions,consented_at,source,status,created_at,confirmed_at", lines[0]);
        Assert.StartsWith("ada@example.org,Ada,weekly-fact;weekly-tip,2025-03-14T09:30:00Z,shop,confirmed,", lines[1]);
        // A name a spreadsheet would run as a formula goes out with a leading apostrophe.
        Assert.StartsWith("bo@example.org,\"'=HYPERLINK(\"\"x\"\")\",weekly-fact,", lines[2]);
        Assert.StartsWith("cy@example.org,Cy,monthly-spotlight,,,pending,", lines[3]);
        Assert.Equal(stdout.Out, await File.ReadAllTextAsync(path));

        await using var other = TestApp.Create();
        await other.RunCliOkAsync("subscribers", "import", path);
        await using var db = other.OpenDb();
        var bo = await db.Subscribers.Include(s => s.Subscriptions).SingleAsync(s => s.NormalizedEmail == "bo@example.org");
        Assert.Equal(("=HYPERLINK(\"x\")", SubscriberStatus.Confirmed), (bo.Name, bo.Status));
        var ada = await db.Subscribers.Include(s => s.Subscriptions).SingleAsync(s => s.NormalizedEmail == "ada@example.org");
        Assert.Equal(["weekly-fact", "weekly-tip"], ada.Subscriptions.Select(s => s.Edition).Order());
        var cy = await db.Subscribers.Include(s => s.Subscriptions).SingleAsync(s => s.NormalizedEmail == "cy@example.org");
        Assert.Equal((SubscriberStatus.Pending, "monthly-spotlight"), (cy.Status, Assert.Single(cy.Subscriptions).Edition));
    }

    [Fact]
    public async Task Export_data_prints_the_profile_subscriptions_consent_and_delivery_history_as_JSON()
    {
        await using var world = await SignupWorld.StartAsync();
        world.Client.DefaultRequestHeaders.UserAgent.ParseAdd("TestBrowser/1.0");
        var id = await world.SubscribeConfirmedAsync("data@example.org", "Dee", "weekly-tip");
        await AddDeliveryAsync(world.App, id, "250 2.0.0 ok");
        await world.MailIdleAsync();

        var result = await world.App.RunCliOkAsync("subscribers", "export-data", "DATA@example.org");

        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("data@example.org", root.GetProperty("profile").GetProperty("email").GetString());
        Assert.Equal("Dee", root.GetProperty("profile").GetProperty("name").GetString());
        Assert.Equal("confirmed", root.GetProperty("profile").GetProperty("status").GetString());
        var subscription = Assert.Single(root.GetProperty("subscriptions").EnumerateArray());
        Assert.Equal(("weekly-tip", "active"), (subscription.GetProperty("edition").GetString(), subscription.GetProperty("status").GetString()));
        var consent = Assert.Single(root.GetProperty("consentRecords").EnumerateArray());
        Assert.Equal(("web-form", "TestBrowser/1.0", "2026-11"),
            (consent.GetProperty("source").GetString(), consent.GetProperty("userAgent").GetString(), consent.GetProperty("consentTextVersion").GetString()));
        var delivery = Assert.Single(root.GetProperty("deliveries").EnumerateArray());
        Assert.Equal(("weekly-tip", "sent"), (delivery.GetProperty("edition").GetString(), delivery.GetProperty("status").GetString()));
        Assert.Equal([("confirmation", "weekly-tip", "sent", 1), ("welcome", "weekly-tip", "sent", 1)],
            root.GetProperty("signupEmails").EnumerateArray().Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("editions").GetString(),
                e.GetProperty("status").GetString(), e.GetProperty("attempts").GetInt32())));
    }

    [Fact]
    public async Task Export_data_for_an_address_not_on_the_list_says_so_and_exits_1()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();

        var result = await app.RunCliAsync("subscribers", "export-data", "nobody@example.org");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No subscriber has the address nobody@example.org", result.Error);
    }

    [Fact]
    public async Task Erase_deletes_the_personal_data_and_keeps_only_the_suppression_hash()
    {
        await using var world = await SignupWorld.StartAsync();
        var id = await world.SubscribeConfirmedAsync("erase.me@example.org", "Eve", "weekly-tip");
        // The confirmation and the welcome, both sent before the erasure.
        await world.MailIdleAsync();
        var sentBefore = world.Smtp.Messages.Count;
        await AddDeliveryAsync(world.App, id, "550 5.1.1 <erase.me@example.org> no such user");
        await world.App.RunCliOkAsync("subscribers", "suppress", "erase.me@example.org", "--reason", "hard-bounce", "--note", "bounced for erase.me@example.org");

        var result = await world.App.RunCliOkAsync("subscribers", "erase", "Erase.Me@example.org");

        Assert.Contains("Erased Erase.Me@example.org", result.Out);
        await using (var db = world.App.OpenDb())
        {
            Assert.Empty(await db.Subscribers.ToListAsync());
            Assert.Empty(await db.Subscriptions.ToListAsync());
            Assert.Empty(await db.Set<ConsentRecord>().ToListAsync());
            var suppression = await db.Suppressions.SingleAsync();
            Assert.Equal((TestApp.AddressHash("erase.me@example.org"), SuppressionReason.Erased, (string?)null), (suppression.EmailHash, suppression.Reason, suppression.Note));
            var delivery = await db.Deliveries.SingleAsync();
            Assert.Null(delivery.LastResult);
        }
        // Not even in the file's free pages or its write-ahead log.
        foreach (var file in new[] { world.App.DatabasePath, world.App.DatabasePath + "-wal" }.Where(File.Exists))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.DoesNotContain("erase.me@", System.Text.Encoding.Latin1.GetString(bytes), StringComparison.OrdinalIgnoreCase);
        }

        // The address cannot come back by the form or by an import.
        world.Time.Advance(TimeSpan.FromHours(2));
        await world.SignUpAsync("erase.me@example.org");
        await world.MailIdleAsync();
        Assert.Equal(sentBefore, world.Smtp.Messages.Count);
        var import = await world.App.RunCliAsync("subscribers", "import", world.App.WriteFile("back.csv", Header + "erase.me@example.org,,weekly-tip,2025-01-01,\n"));
        Assert.Contains("is on the suppression list", import.Error);
        Assert.Equal(0, await ListSnapshot.CountAsync(world.App));
    }

    [Fact]
    public async Task Suppress_and_unsuppress_put_an_address_on_and_off_the_list()
    {
        await using var app = TestApp.Create();

        var on = await app.RunCliOkAsync("subscribers", "suppress", "x@example.org", "--reason", "complaint");
        var again = await app.RunCliOkAsync("subscribers", "suppress", "X@example.org");
        var bad = await app.RunCliAsync("subscribers", "suppress", "x@example.org", "--reason", "boredom");
        var off = await app.RunCliOkAsync("subscribers", "unsuppress", "x@example.org");

        Assert.Contains("Suppressed x@example.org (reason: complaint)", on.Out);
        Assert.Contains("already suppressed (reason: complaint)", again.Out);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("no longer suppressed", off.Out);
        await using var db = app.OpenDb();
        Assert.Empty(await db.Suppressions.ToListAsync());
    }

    private static async Task AddDeliveryAsync(TestApp app, int subscriberId, string lastResult)
    {
        await using var db = app.OpenDb();
        var publication = new Newsletter.Worker.Data.Publication
        {
            Edition = "weekly-tip",
            SlotUtc = new DateTime(2026, 11, 5, 14, 0, 0, DateTimeKind.Utc),
            CreatedAt = new DateTime(2026, 11, 5, 14, 0, 0, DateTimeKind.Utc),
        };
        db.Publications.Add(publication);
        await db.SaveChangesAsync();
        db.Deliveries.Add(new Newsletter.Worker.Data.DeliveryRecord
        {
            PublicationId = publication.Id,
            SubscriberId = subscriberId,
            Status = Newsletter.Worker.Data.DeliveryStatus.Sent,
            Attempts = 1,
            NextAttemptAt = publication.SlotUtc,
            CompletedAt = publication.SlotUtc,
            LastResult = lastResult,
        });
        await db.SaveChangesAsync();
    }
}
