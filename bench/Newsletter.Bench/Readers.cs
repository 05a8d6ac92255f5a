using Microsoft.Data.Sqlite;
using Newsletter.Subscribers.Addresses;
using Newsletter.Subscribers.Model;

namespace Newsletter.Bench;

internal static class Readers
{
    /// <summary>
    /// Adds <paramref name="count"/> confirmed readers, reader1…readerN@example.org, each subscribed to
    /// every edition in <paramref name="editions"/>, in one transaction (one prepared statement, run
    /// per reader). Every third has no name, so both greetings are built. <paramref name="connection"/>
    /// must be open and its schema migrated; <paramref name="hasher"/> is the service's, so suppressions match.
    /// </summary>
    public static async Task AddAsync(SqliteConnection connection, AddressHasher hasher, int count, IEnumerable<string> editions, DateTime now)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO "Subscribers" ("Id", "Email", "NormalizedEmail", "EmailHash", "Name", "Status", "CreatedAt", "ConfirmedAt", "LinkKey")
            VALUES (@id, @email, @email, @hash, @name, @confirmed, @now, @now, @linkKey);
            INSERT INTO "Subscriptions" ("SubscriberId", "Edition", "Status", "SubscribedAt")
            SELECT @id, e.value, @active, @now FROM json_each(@editions) e;
            """;
        var id = insert.Parameters.Add("@id", SqliteType.Integer);
        var email = insert.Parameters.Add("@email", SqliteType.Text);
        var hash = insert.Parameters.Add("@hash", SqliteType.Text);
        var name = insert.Parameters.Add("@name", SqliteType.Text);
        var linkKey = insert.Parameters.Add("@linkKey", SqliteType.Text);
        insert.Parameters.AddWithValue("@confirmed", (int)SubscriberStatus.Confirmed);
        insert.Parameters.AddWithValue("@active", (int)SubscriptionStatus.Active);
        insert.Parameters.AddWithValue("@now", DateTime.SpecifyKind(now, DateTimeKind.Utc));
        insert.Parameters.AddWithValue("@editions", System.Text.Json.JsonSerializer.Serialize(editions.ToArray()));
        for (var i = 1; i <= count; i++)
        {
            var address = $"reader{i}@example.org";
            id.Value = i;
            email.Value = address;
            hash.Value = hasher.Hash(address);
            linkKey.Value = Subscriber.NewLinkKey();
            name.Value = i % 3 == 0 ? DBNull.Value : $"Reader {i}";
            await insert.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }
}
