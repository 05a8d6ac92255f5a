using System.Diagnostics;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Pop3;
using MailKit.Security;
using Newsletter.Tests.Infrastructure.Mailbox;
using Xunit.Abstractions;

namespace Newsletter.Tests.Infrastructure;

/// <summary>The real IMAP and POP3 server the bounce-mailbox tests stand on, checked with MailKit as the client
/// and the maildir on disk as the witness.</summary>
public sealed class TestDovecotTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Over_plain_IMAP_the_user_logs_in_and_sees_a_dropped_message_in_INBOX()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.DropAsync(Message("Delivery Status Notification (Failure)"));
        using var imap = await ImapAsync(dovecot, dovecot.ImapPort, SecureSocketOptions.None);

        Assert.False(imap.IsSecure);
        var inbox = imap.Inbox;
        await inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal(1, inbox.Count);
        var summary = Assert.Single(await inbox.FetchAsync(0, -1, MessageSummaryItems.Envelope));
        Assert.Equal("Delivery Status Notification (Failure)", summary.Envelope?.Subject);
        Assert.Equal("127.0.0.1", dovecot.Host);
        Assert.Equal(4, new[] { dovecot.ImapPort, dovecot.ImapsPort, dovecot.Pop3Port, dovecot.Pop3sPort }.Distinct().Count());
        output.WriteLine($"started in {dovecot.StartupTime.TotalMilliseconds:0} ms");
    }

    [Theory]
    [InlineData("imap", SecureSocketOptions.StartTls)]
    [InlineData("imaps", SecureSocketOptions.SslOnConnect)]
    [InlineData("pop3", SecureSocketOptions.StartTls)]
    [InlineData("pop3s", SecureSocketOptions.SslOnConnect)]
    public async Task TLS_with_the_pinned_certificate_logs_in_and_without_the_pin_the_handshake_is_refused(string service, SecureSocketOptions security)
    {
        await using var dovecot = await TestDovecot.StartAsync();
        var port = service switch { "imap" => dovecot.ImapPort, "imaps" => dovecot.ImapsPort, "pop3" => dovecot.Pop3Port, _ => dovecot.Pop3sPort };
        MailService Client() => service.StartsWith("imap", StringComparison.Ordinal) ? new ImapClient { Timeout = 15_000 } : new Pop3Client { Timeout = 15_000 };

        using (var pinned = Client())
        {
            pinned.ServerCertificateValidationCallback = dovecot.ValidateServerCertificate;
            await pinned.ConnectAsync(dovecot.Host, port, security);
            await pinned.AuthenticateAsync(dovecot.UserName, dovecot.Password);

            Assert.True(pinned.IsSecure);
            Assert.True(pinned.IsAuthenticated);
            await pinned.DisconnectAsync(quit: true);
        }

        using var unpinned = Client();
        await Assert.ThrowsAsync<SslHandshakeException>(() => unpinned.ConnectAsync(dovecot.Host, port, security));
    }

    [Fact]
    public async Task A_message_moved_to_a_Processed_folder_created_over_IMAP_leaves_INBOX_on_disk()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.DropAsync(Message("first bounce"));
        await dovecot.DropAsync(Message("second bounce"));
        Assert.False(dovecot.FolderExists("Processed"));
        using var imap = await ImapAsync(dovecot, dovecot.ImapPort, SecureSocketOptions.None);

        var personal = imap.GetFolder(imap.PersonalNamespaces[0]);
        var processed = await personal.CreateAsync("Processed", isMessageFolder: true)
            ?? throw new InvalidOperationException("CREATE Processed returned no folder");
        await imap.Inbox.OpenAsync(FolderAccess.ReadWrite);
        var first = (await imap.Inbox.FetchAsync(0, -1, MessageSummaryItems.Envelope | MessageSummaryItems.UniqueId))
            .Single(m => m.Envelope?.Subject == "first bounce");
        await imap.Inbox.MoveToAsync(first.UniqueId, processed);

        Assert.True(dovecot.FolderExists("Processed"));
        Assert.Equal("first bounce", Assert.Single(dovecot.Messages("Processed")).Parse().Subject);
        var left = Assert.Single(dovecot.Messages());
        Assert.Equal("second bounce", left.Parse().Subject);
        Assert.False(left.IsNew); // the session has seen it, so Dovecot moved it from new/ to cur/
    }

    [Fact]
    public async Task A_message_dropped_into_a_folder_of_its_own_is_that_IMAP_folder()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.DropAsync(Message("filed elsewhere"), "Processed");
        using var imap = await ImapAsync(dovecot, dovecot.ImapPort, SecureSocketOptions.None);

        var folder = await imap.GetFolderAsync("Processed");
        await folder.OpenAsync(FolderAccess.ReadOnly);

        Assert.Equal(1, folder.Count);
        Assert.Equal("filed elsewhere", (await folder.GetMessageAsync(0)).Subject);
        Assert.Equal(0, dovecot.Count());
    }

    [Fact]
    public async Task An_IMAP_delete_is_a_flag_until_expunge_and_then_the_file_is_gone()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        var id = await dovecot.DropAsync(Message("to delete"));
        using var imap = await ImapAsync(dovecot, dovecot.ImapPort, SecureSocketOptions.None);
        await imap.Inbox.OpenAsync(FolderAccess.ReadWrite);

        await imap.Inbox.AddFlagsAsync(0, MessageFlags.Deleted, silent: true);
        var flagged = Assert.Single(dovecot.Messages());
        Assert.Equal(id, flagged.Id);
        Assert.True(flagged.IsDeleted);

        await imap.Inbox.ExpungeAsync();
        Assert.Empty(dovecot.Messages());
    }

    [Fact]
    public async Task Over_POP3_the_user_counts_retrieves_and_deletes_and_QUIT_removes_the_file()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.DropAsync(Message("one"));
        await dovecot.DropAsync(Message("two"));
        using var pop3 = new Pop3Client { Timeout = 15_000 };
        await pop3.ConnectAsync(dovecot.Host, dovecot.Pop3Port, SecureSocketOptions.None);
        await pop3.AuthenticateAsync(dovecot.UserName, dovecot.Password);

        Assert.Equal(2, pop3.Count);
        var subjects = new[] { (await pop3.GetMessageAsync(0)).Subject, (await pop3.GetMessageAsync(1)).Subject };
        Assert.Equal(["one", "two"], subjects.Order());
        await pop3.DeleteMessageAsync(Array.IndexOf(subjects, "one"));
        Assert.Equal(2, dovecot.Count()); // POP3 deletes only when the session ends with QUIT

        await pop3.DisconnectAsync(quit: true);
        Assert.Equal("two", Assert.Single(dovecot.Messages()).Parse().Subject);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_leaves_no_penalty_delay_on_the_next_login()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        using (var wrong = new ImapClient { Timeout = 15_000 })
        {
            await wrong.ConnectAsync(dovecot.Host, dovecot.ImapPort, SecureSocketOptions.None);
            await Assert.ThrowsAsync<AuthenticationException>(() => wrong.AuthenticateAsync(dovecot.UserName, "not " + dovecot.Password));
        }

        var clock = Stopwatch.StartNew();
        using var right = await ImapAsync(dovecot, dovecot.ImapPort, SecureSocketOptions.None);

        Assert.True(right.IsAuthenticated);
        // Dovecot's own penalty would hold the next login from this address for at least 2 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the login after a refusal took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Stopped_it_refuses_connections_and_restarted_it_serves_the_same_mail_on_the_same_ports()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.DropAsync(Message("kept across the outage"));
        var (imapPort, pop3Port) = (dovecot.ImapPort, dovecot.Pop3Port);
        using var before = await ImapAsync(dovecot, imapPort, SecureSocketOptions.None);

        await dovecot.StopAsync();

        Assert.False(dovecot.IsRunning);
        await Assert.ThrowsAsync<ImapProtocolException>(() => before.Inbox.OpenAsync(FolderAccess.ReadOnly));
        using var during = new ImapClient { Timeout = 15_000 };
        var refused = await Assert.ThrowsAsync<SocketException>(() => during.ConnectAsync(dovecot.Host, imapPort, SecureSocketOptions.None));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        using var pop3During = new Pop3Client { Timeout = 15_000 };
        await Assert.ThrowsAsync<SocketException>(() => pop3During.ConnectAsync(dovecot.Host, pop3Port, SecureSocketOptions.None));

        await dovecot.RestartAsync();

        Assert.True(dovecot.IsRunning);
        Assert.Equal((imapPort, pop3Port), (dovecot.ImapPort, dovecot.Pop3Port));
        using var after = await ImapAsync(dovecot, imapPort, SecureSocketOptions.None);
        await after.Inbox.OpenAsync(FolderAccess.ReadOnly);
        Assert.Equal("kept across the outage", (await after.Inbox.GetMessageAsync(0)).Subject);
    }

    [Fact]
    public async Task Several_start_at_once_each_with_its_own_ports_folder_and_mail()
    {
        var clock = Stopwatch.StartNew();
        var started = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => TestDovecot.StartAsync()));
        var all = clock.Elapsed;
        try
        {
            Assert.Equal(16, started.SelectMany(d => new[] { d.ImapPort, d.ImapsPort, d.Pop3Port, d.Pop3sPort }).Distinct().Count());
            Assert.Equal(4, started.Select(d => d.Folder).Distinct().Count());
            await started[0].DropAsync(Message("only in the first"));
            foreach (var dovecot in started)
            {
                using var imap = await ImapAsync(dovecot, dovecot.ImapPort, SecureSocketOptions.None);
                await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
                Assert.Equal(dovecot == started[0] ? 1 : 0, imap.Inbox.Count);
            }
            output.WriteLine($"4 in parallel: {all.TotalMilliseconds:0} ms; each: {string.Join(", ", started.Select(d => $"{d.StartupTime.TotalMilliseconds:0} ms"))}");
        }
        finally
        {
            foreach (var dovecot in started)
            {
                await dovecot.DisposeAsync();
            }
        }
        Assert.All(started, d => Assert.False(Directory.Exists(d.Folder)));
    }

    private static async Task<ImapClient> ImapAsync(TestDovecot dovecot, int port, SecureSocketOptions security)
    {
        var client = new ImapClient { Timeout = 15_000, ServerCertificateValidationCallback = dovecot.ValidateServerCertificate };
        try
        {
            await client.ConnectAsync(dovecot.Host, port, security);
            await client.AuthenticateAsync(dovecot.UserName, dovecot.Password);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static string Message(string subject) =>
        $"From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@news.example.org\r\nSubject: {subject}\r\n" +
        $"Message-ID: <{Guid.NewGuid():N}@mx.example.net>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\r\n{subject}\r\n";
}
