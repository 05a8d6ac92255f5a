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

    /// <summary>A feedback report as a feedback loop sends it: to the abuse address, with our message returned inside.</summary>
    private static MimeMessage Complaint(string originalHeaders, string originalType = "message/rfc822", string envelope = "", string feedback = "") =>
        MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes($"""
            {envelope}From: fbl@isp.example.net
            To: abuse@news.example.org
            Subject: complaint
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=feedback-report; boundary="r"

            --r
            Content-Type: text/plain

            A user reported this message.

            --r
            Content-Type: message/feedback-report

            Feedback-Type: abuse
            Version: 1{feedback}

            --r
            Content-Type: {originalType}

            {originalHeaders}
            From: Tip of the Week <tips@news.example.org>
            To: kim@example.org
            Subject: Tip of the Week

            --r--
            """.ReplaceLineEndings("\r\n"))));

    [Fact]
    public void A_complaint_sent_to_the_abuse_address_is_found_by_the_return_path_of_the_original_inside_it()
    {
        var address = Verp.For(12, 345)!.Address;

        var attached = BounceAddressing.Find(Complaint($"Return-Path: <{address}>"), Verp);
        var headersOnly = BounceAddressing.Find(Complaint($"Sender: {address}", "text/rfc822-headers"), Verp);

        var reportOnly = BounceAddressing.Find(Complaint("Return-Path: <>", feedback: $"\r\nOriginal-Mail-From: <{address}>"), Verp);

        Assert.Equal(new BounceAddress(new VerpToken(12, 345), false), attached);
        Assert.Equal(new BounceAddress(new VerpToken(12, 345), false), headersOnly);
        Assert.Equal(new BounceAddress(new VerpToken(12, 345), false), reportOnly);
    }

    [Fact]
    public void A_forged_address_in_the_original_names_nobody_and_the_envelope_still_comes_first()
    {
        var genuine = Verp.For(12, 345)!.Address;
        var forged = genuine.Replace("12-345-", "12-346-", StringComparison.Ordinal);

        var inOriginal = BounceAddressing.Find(Complaint($"Return-Path: <{forged}>"), Verp);
        var forgedEnvelope = BounceAddressing.Find(Complaint($"Return-Path: <{genuine}>", envelope: $"Delivered-To: {forged}\r\n"), Verp);

        Assert.Equal(new BounceAddress(null, true), inOriginal);
        Assert.Equal(new BounceAddress(null, true), forgedEnvelope);
    }
}
