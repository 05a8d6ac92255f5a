using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Tests.Delivery;
using Newsletter.Worker.Bounces;
using Newsletter.Worker.Delivery;

namespace Newsletter.Tests.Bounces;

/// <summary>A returned message names our message by the VERP address it came back to; a token that does not
/// verify names nobody and is counted as forged.</summary>
public sealed class BounceAddressingTests
{
    private static readonly VerpAddresses Verp = new(
        Options.Create(new MessageOptions { Verp = { Domain = "news.example.org" } }), MessageKit.Signer);

    private static MimeMessage Returned(string headers) => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
        $"{headers}\r\nFrom: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered\r\nContent-Type: text/plain\r\n\r\nBody.\r\n")));

    [Fact]
    public void The_envelope_recipient_names_the_publication_and_the_reader()
    {
        var address = Verp.For(12, 345)!.Address;

        var found = BounceAddressing.Find(Returned($"Delivered-To: {address}\r\nTo: someone-else@example.org"), Verp);
        var byTo = BounceAddressing.Find(Returned($"To: <{address.ToUpperInvariant()}>"), Verp);

        Assert.Equal(new BounceAddress(new VerpToken(12, 345), false), found);
        Assert.Equal(new VerpToken(12, 345), byTo.Token);
    }

    [Fact]
    public void A_token_that_does_not_verify_names_nobody_and_is_counted_as_forged()
    {
        var genuine = Verp.For(12, 345)!.Address;
        var forged = genuine.Replace("12-345-", "12-346-", StringComparison.Ordinal);

        var reading = BounceAddressing.Find(Returned($"Delivered-To: {forged}"), Verp);
        var stranger = BounceAddressing.Find(Returned("Delivered-To: postmaster@news.example.org"), Verp);

        Assert.Equal(new BounceAddress(null, true), reading);
        Assert.Equal(new BounceAddress(null, false), stranger);
    }
}
