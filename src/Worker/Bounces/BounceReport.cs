using System.Security.Cryptography;
using System.Text;
using MimeKit;
using Newsletter.Worker.Data;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Bounces;

/// <summary>One message that came back, read: its idempotence key, where it came from, what it means and whom it names.</summary>
/// <param name="Unreadable">Too large or not a message: counted apart, nobody changed.</param>
public sealed record BounceReport(string Key, BounceSource Source, BounceReading Reading, BounceAddress Address, bool Unreadable = false)
{
    /// <summary>A message from the mailbox or a file: keyed by its Message-ID, or by its bytes when it has none.</summary>
    public static BounceReport FromMessage(MimeMessage message, BounceSource source, VerpAddresses verp) =>
        new(KeyOf(message), source, BounceReader.Read(message), BounceAddressing.Find(message, verp));

    /// <summary>A message that was not read (too large, not a message at all): counted, nobody changed.</summary>
    public static BounceReport NotRead(string key, BounceSource source, string reason) =>
        new(key, source, new BounceReading(BounceKind.None, null, null, null, reason), new BounceAddress(null, false), Unreadable: true);

    public static string KeyOf(MimeMessage message)
    {
        if (!string.IsNullOrWhiteSpace(message.MessageId))
        {
            return KeyOf("message-id", message.MessageId);
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = new HashingStream(hash))
        {
            message.WriteTo(stream);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The key of a report known by an id of its own (a relay's event id, a mailbox's unique id).</summary>
    public static string KeyOf(string kind, string id) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}|{id.Trim()}")));

    /// <summary>Feeds what is written to a hash, so a message without a Message-ID is keyed without a copy in memory.</summary>
    private sealed class HashingStream(IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => hash.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => hash.AppendData(buffer);
    }
}
