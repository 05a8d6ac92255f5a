using Microsoft.EntityFrameworkCore;
using Newsletter.Tests.Infrastructure;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Subscribers;

/// <summary>Erasure reaches free text too: a publication's note that quotes the person's address.</summary>
public sealed class ErasureNotesTests
{
    [Fact]
    public async Task Erasing_a_reader_replaces_their_address_in_every_publication_note_and_leaves_the_rest_of_the_note()
    {
        await using var app = TestApp.Create();
        await app.RunCliOkAsync("subscribers", "add", "quoted.reader@example.org", "--confirmed", "--editions", "weekly-tip");
        await app.RunCliOkAsync("subscribers", "add", "other.reader@example.org", "--confirmed", "--editions", "weekly-tip");
        // As a pause for errors wrote its last error before replies were masked, in the server's letter case.
        var paused = await AddPublicationAsync(app, new DateTime(2026, 11, 5, 14, 0, 0, DateTimeKind.Utc),
            "paused after 1001 delivery errors (the budget is 1000); last error: 550 5.1.1 <Quoted.Reader@Example.org>: User unknown. " +
            "Check the SMTP server and settings, then run 'newsletter publications resume 1'");
        var other = await AddPublicationAsync(app, new DateTime(2026, 11, 12, 14, 0, 0, DateTimeKind.Utc),
            "paused after 1001 delivery errors (the budget is 1000); last error: 550 5.1.1 <other.reader@example.org>: User unknown");

        await app.RunCliOkAsync("subscribers", "erase", "quoted.reader@example.org");

        await using (var db = app.OpenDb())
        {
            var notes = await db.Publications.AsNoTracking().ToDictionaryAsync(p => p.Id, p => p.Note);
            Assert.Equal("paused after 1001 delivery errors (the budget is 1000); last error: 550 5.1.1 <(erased address)>: User unknown. " +
                "Check the SMTP server and settings, then run 'newsletter publications resume 1'", notes[paused]);
            Assert.Contains("<other.reader@example.org>", notes[other], StringComparison.Ordinal);
        }
        // Not in the file's free pages or its write-ahead log either.
        foreach (var file in new[] { app.DatabasePath, app.DatabasePath + "-wal" }.Where(File.Exists))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.DoesNotContain("quoted.reader@", System.Text.Encoding.Latin1.GetString(bytes), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Erasing_an_address_nobody_on_the_list_has_still_cleans_it_out_of_the_notes()
    {
        await using var app = TestApp.Create();
        await app.CreateDatabaseAsync();
        var id = await AddPublicationAsync(app, new DateTime(2026, 11, 5, 14, 0, 0, DateTimeKind.Utc),
            "paused; last error: 550 5.1.1 <left.long.ago@example.org>: User unknown");

        await app.RunCliOkAsync("subscribers", "erase", "left.long.ago@example.org");

        await using var db = app.OpenDb();
        Assert.Equal("paused; last error: 550 5.1.1 <(erased address)>: User unknown",
            (await db.Publications.AsNoTracking().SingleAsync(p => p.Id == id)).Note);
    }

    private static async Task<int> AddPublicationAsync(TestApp app, DateTime slot, string note)
    {
        await using var db = app.OpenDb();
        var publication = new Publication
        {
            Edition = "weekly-tip",
            SlotUtc = slot,
            CreatedAt = slot,
            Status = PublicationStatus.Paused,
            Note = note,
        };
        db.Publications.Add(publication);
        await db.SaveChangesAsync();
        return publication.Id;
    }
}
