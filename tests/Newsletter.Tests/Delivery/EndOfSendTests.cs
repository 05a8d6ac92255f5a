using Newsletter.Tests.Infrastructure.Databases;
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Tests.Infrastructure;
using Newsletter.Tests.Infrastructure.Smtp;
using Newsletter.Worker.Data;

namespace Newsletter.Tests.Delivery;

/// <summary>How a send ends: a sender that found nothing to claim while another still held the
/// last claim must not sleep out its wait once that claim is done.</summary>
public class EndOfSendTests
{
    // Guards the end-of-send wake-up. Sender A finds nothing left to claim while sender B still holds
    // the last reader, and asks when to look again (B's lease: a wait of up to 2 s). Here B sends
    // that reader, finishes the whole send and closes its connection while A is still between its
    // empty claim and its wait. A must still see the change and finish at once. The clock is
    // frozen, so a sender that missed it would wait for ever (the run times out) rather than for
    // 2 s. Before the fix, the signal was only taken at the start of the wait, after B had sent it.
    [DatabaseFact]
    public async Task A_sender_that_found_nothing_while_another_finished_the_send_ends_with_it()
    {
        const int readers = 12;
        var lastReader = DeliveryWorld.Email(readers);
        var lookedForWork = new ManualResetEventSlim();
        var probe = new FirstLeaseQuery(lookedForWork);
        var frozen = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var script = SmtpScript.ForRecipients((address, _) =>
        {
            // The last reader's RCPT is held until the other sender has found nothing to claim.
            if (string.Equals(address, lastReader, StringComparison.OrdinalIgnoreCase))
            {
                lookedForWork.Wait(TimeSpan.FromSeconds(30));
            }
            return SmtpReplyDecision.Accept;
        });
        await using var world = await DeliveryWorld.StartAsync(
            script,
            configure: app => app.Set("Delivery:Connections", "2"),
            services: s =>
            {
                s.AddSingleton<TimeProvider>(frozen);
                s.ConfigureNewsletterDb(o => o.AddInterceptors(probe));
            });
        probe.ReleaseWhen = () => world.Smtp.OpenConnections <= 1;
        await world.AddSubscribersAsync(readers);
        var publicationId = await world.PublishAsync();

        var final = await world.RunAsync(publicationId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(probe.Held, "no sender asked when to look again: the test did not set up the race");
        Assert.Equal(readers, final.Sent);
        Assert.Equal(readers, world.ReceivedCounts().Count);
        Assert.All(world.ReceivedCounts().Values, count => Assert.Equal(1, count));
    }

    /// <summary>
    /// Holds the first "when does the next lease run out" query of the send, after it read the other
    /// sender's lease, until <see cref="ReleaseWhen"/> holds (the other sender has finished and gone);
    /// signals <paramref name="lookedForWork"/> as it starts holding.
    /// </summary>
    private sealed class FirstLeaseQuery(ManualResetEventSlim lookedForWork) : DbCommandInterceptor
    {
        private int _seen;

        public Func<bool> ReleaseWhen { get; set; } = () => true;

        public bool Held { get; private set; }

        public override async ValueTask<DbDataReader> ReaderExecutedAsync(
            DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
        {
            // Spelt MIN("d"."LeaseExpiresAt") on SQLite, min(d."LeaseExpiresAt") on PostgreSQL.
            if (command.CommandText.Replace("\"", "", StringComparison.Ordinal).Contains("MIN(d.LeaseExpiresAt)", StringComparison.OrdinalIgnoreCase)
                && Interlocked.Increment(ref _seen) == 1)
            {
                // The query has run: in WAL mode its reader keeps the database as it was then (the
                // other sender's lease still held) while the other sender finishes the send.
                Held = true;
                lookedForWork.Set();
                await Poll.UntilAsync(() => ReleaseWhen(), "the other sender to finish and close its connection");
            }
            return result;
        }
    }
}
