using System.Reflection;
using MimeKit;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Bounces;

/// <summary>Every sample in the corpus, written for this project in the shapes real mail systems use, reads as
/// exactly one defined thing; a new sample cannot be added without saying what it means.</summary>
public sealed class BounceCorpusTests
{
    private static string Folder => Path.Combine(AppContext.BaseDirectory, "Bounces", "Corpus");

    [Theory]
    // RFC 3464 delivery status notifications
    [InlineData("dsn-hard-user-unknown.eml", BounceKind.Hard, "reader1@example.org", "5.1.1")]
    [InlineData("dsn-soft-expired.eml", BounceKind.Soft, "reader2@example.org", "4.4.7")]
    [InlineData("dsn-mailbox-full.eml", BounceKind.Soft, "reader3@example.org", "5.2.2")]
    [InlineData("dsn-delayed.eml", BounceKind.None, null, null)]
    [InlineData("dsn-delivered.eml", BounceKind.None, null, null)]
    [InlineData("postfix-dsn.eml", BounceKind.Hard, "reader6@example.org", "5.1.1")]
    [InlineData("exchange-dsn.eml", BounceKind.Hard, "reader14@example.org", "5.1.10")]
    [InlineData("gmail-dsn.eml", BounceKind.Hard, "reader16@example.org", "5.1.1")]
    // Bounces without a report part, read from their own text
    [InlineData("postfix-plain.eml", BounceKind.Hard, "reader7@example.org", "5.1.1")]
    [InlineData("postfix-plain-spam-rejection.eml", BounceKind.Soft, "reader8@example.org", "5.7.1")]
    [InlineData("exim-text-hard.eml", BounceKind.Hard, "reader9@example.org", "5.1.1")]
    [InlineData("exim-text-soft.eml", BounceKind.Soft, "reader10@example.org", "4.7.1")]
    [InlineData("exim-text-quota-basic-code.eml", BounceKind.Soft, "reader11@example.org", "552")]
    [InlineData("exim-text-delay-warning.eml", BounceKind.None, null, null)]
    [InlineData("exim-text-no-status-inline-copy.eml", BounceKind.None, null, null)]
    [InlineData("exchange-text-ndr.eml", BounceKind.Hard, "reader15@example.org", "5.1.10")]
    [InlineData("gmail-text-only.eml", BounceKind.Hard, "reader17@example.org", "5.1.1")]
    [InlineData("yahoo-plain-hard.eml", BounceKind.Hard, "reader18@example.org", "554")]
    [InlineData("lookalike-from-a-person.eml", BounceKind.None, null, null)]
    // Feedback reports
    [InlineData("arf-abuse-rfc822.eml", BounceKind.Complaint, "reader19@example.org", null)]
    [InlineData("arf-rfc822-headers.eml", BounceKind.Complaint, "reader20@example.org", null)]
    // Replies from people and their autoresponders
    [InlineData("ooo-auto-submitted.eml", BounceKind.None, null, null)]
    [InlineData("ooo-x-autoreply.eml", BounceKind.None, null, null)]
    [InlineData("ooo-precedence.eml", BounceKind.None, null, null)]
    [InlineData("vacation-quoting-550.eml", BounceKind.None, null, null)]
    [InlineData("vacation-null-sender-no-headers.eml", BounceKind.None, null, null)]
    [InlineData("human-reply.eml", BounceKind.None, null, null)]
    // Loops and damage
    [InlineData("bounce-about-a-bounce-dsn.eml", BounceKind.None, null, null)]
    [InlineData("bounce-about-a-bounce-headers.eml", BounceKind.None, null, null)]
    [InlineData("malformed-broken-boundary.eml", BounceKind.None, null, null)]
    [InlineData("malformed-missing-closing-boundary.eml", BounceKind.Hard, "reader30@example.org", "5.1.1")]
    [InlineData("malformed-garbage-headers.eml", BounceKind.None, null, null)]
    [InlineData("malformed-report-without-status.eml", BounceKind.Hard, "reader32@example.org", "5.1.1")]
    [InlineData("malformed-status-garbage.eml", BounceKind.None, null, null)]
    public void Each_sample_reads_as_what_it_is(string file, BounceKind kind, string? recipient, string? status)
    {
        var reading = BounceReader.Read(MimeMessage.Load(Path.Combine(Folder, file)));

        Assert.Equal((kind, recipient, status), (reading.Kind, reading.Recipient, reading.Status));
        Assert.False(string.IsNullOrWhiteSpace(reading.Reason));
    }

    [Fact]
    public void Every_sample_in_the_folder_has_an_expectation()
    {
        var method = typeof(BounceCorpusTests).GetMethod(nameof(Each_sample_reads_as_what_it_is))!;
        var expected = method.GetCustomAttributes<InlineDataAttribute>()
            .SelectMany(a => a.GetData(method)).Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        var present = Directory.EnumerateFiles(Folder, "*.eml").Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(present);
        Assert.Empty(present.Except(expected));
        Assert.Empty(expected.Except(present));
    }
}
