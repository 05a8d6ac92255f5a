using System.Net.Sockets;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// The socket as MailKit's stream: writes are gathered and go to the kernel when MailKit flushes (after
/// each command group, and at the end of a message's data) or when 64 KB have gathered; and, once
/// <see cref="PipelineData"/> is on, <c>DATA</c> travels with the envelope.
/// </summary>
/// <remarks>
/// <para>MailKit writes a message in 4 KB blocks, each its own <c>send</c>, TCP segment and wake-up of the
/// server. Gathered, a message is the envelope commands, <c>DATA</c> and one write of the body. MailKit flushes wherever
/// it waits for a reply, so nothing waits in the buffer while the server waits for it. Reads and writes
/// honour <see cref="ReadTimeout"/>/<see cref="WriteTimeout"/> (MailKit sets them from the client's
/// <c>Timeout</c>) by throwing <see cref="TimeoutException"/>, as MailKit's own socket stream does.</para>
/// <para><b>DATA in the envelope's group.</b> With PIPELINING, MailKit sends <c>MAIL FROM</c> and
/// <c>RCPT TO</c> together, waits for their replies, and only then sends <c>DATA</c> and waits again:
/// three round trips a message. RFC 2920 (§3.1) lets <c>DATA</c> end a command group, so this stream
/// appends it to the envelope group itself, and when MailKit then writes its own <c>DATA</c>, sends
/// nothing: MailKit reads the reply the server has already sent. Two round trips a message instead of
/// three, for the server as well as for us. The rules, which keep every path safe:</para>
/// <list type="bullet">
/// <item>It appends <c>DATA</c> only to a flush that is exactly one <c>MAIL FROM</c> line and one or more
/// <c>RCPT TO</c> lines, between messages (<see cref="Phase.Commands"/>); MailKit sends such a group only
/// when the server advertised PIPELINING. (MailKit would follow with <c>BDAT</c> instead of <c>DATA</c>
/// only for a message with binary MIME parts, or when told to prefer it; ours have neither.)</item>
/// <item>After that, the next flush must be exactly MailKit's <c>DATA</c>. Anything else (MailKit found
/// every recipient refused and resets with <c>RSET</c>, or a MailKit that sends something new) finds the
/// server in a state MailKit does not know about: the stream sends nothing more and throws, MailKit
/// drops the connection and the next message opens a new one. A refused recipient therefore costs a
/// reconnection; the server, which never received the message's end, delivers nothing.</item>
/// <item>The message's content is passed through untouched until it ends (the flushed bytes end in
/// <c>CRLF . CRLF</c>, which MailKit's dot-stuffing makes impossible inside the content) or the server
/// refused <c>DATA</c> and MailKit answered with <c>RSET</c> alone.</item>
/// </list>
/// <para>Under TLS, MailKit encrypts above this stream, which sees only ciphertext and never pipelines
/// (<see cref="SmtpTransport"/> turns it on for plain connections only).</para>
/// </remarks>
internal sealed class BatchingSocketStream(Socket socket) : Stream
{
    private const int Capacity = 64 * 1024;

    private static ReadOnlySpan<byte> DataCommand => "DATA\r\n"u8;
    private static ReadOnlySpan<byte> ResetCommand => "RSET\r\n"u8;
    private static ReadOnlySpan<byte> EndOfData => "\r\n.\r\n"u8;

    /// <summary>Where the SMTP conversation stands, as far as <c>DATA</c> pipelining needs to know.</summary>
    private enum Phase
    {
        /// <summary>Between messages: commands only.</summary>
        Commands,

        /// <summary>This stream sent <c>DATA</c> with the envelope; MailKit's own is still to come.</summary>
        DataSent,

        /// <summary>A message's content is being written, up to its final dot.</summary>
        Content,

        /// <summary>The server is in a state MailKit does not know; nothing more is sent.</summary>
        Abandoned,
    }

    // The envelope group has room for DATA: commands are a few hundred bytes, the buffer 64 KB.
    private readonly byte[] _pending = new byte[Capacity];
    private int _count;

    /// <summary>The last bytes of content sent, to see the final dot across flushes.</summary>
    private readonly byte[] _tail = new byte[EndOfData.Length];
    private int _tailLength;

    /// <summary>Appends <c>DATA</c> to envelope groups from now on (see the remarks). Set once the
    /// session is open, between messages, and only if the server pipelines.</summary>
    public bool PipelineData { get; set; }

    private Phase State { get; set; } = Phase.Commands;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override bool CanTimeout => true;
    private int _readTimeout = Timeout.Infinite;
    private int _writeTimeout = Timeout.Infinite;

    public override int ReadTimeout
    {
        get => _readTimeout;
        set
        {
            _readTimeout = value;
            socket.ReceiveTimeout = value == Timeout.Infinite ? 0 : value; // for blocking reads
        }
    }

    public override int WriteTimeout
    {
        get => _writeTimeout;
        set
        {
            _writeTimeout = value;
            socket.SendTimeout = value == Timeout.Infinite ? 0 : value; // for blocking writes
        }
    }
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return socket.Receive(buffer);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
        {
            throw new TimeoutException("The SMTP server did not answer in time.", ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (ReadTimeout == Timeout.Infinite)
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("The SMTP server did not answer in time.", ex);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            if (_count == Capacity)
            {
                Send(Take(explicitFlush: false));
            }
            var n = Math.Min(buffer.Length, Capacity - _count);
            buffer[..n].CopyTo(_pending.AsSpan(_count));
            _count += n;
            buffer = buffer[n..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            if (_count == Capacity)
            {
                await SendAsync(Take(explicitFlush: false), cancellationToken);
            }
            var n = Math.Min(buffer.Length, Capacity - _count);
            buffer.Span[..n].CopyTo(_pending.AsSpan(_count));
            _count += n;
            buffer = buffer[n..];
        }
    }

    public override void Flush() => Send(Take(explicitFlush: true));

    public override Task FlushAsync(CancellationToken cancellationToken) => SendAsync(Take(explicitFlush: true), cancellationToken);

    /// <summary>
    /// Empties the buffer and returns how many of its bytes go to the server, moving <see cref="State"/>
    /// on: the pipelining rules of the remarks, in one place for both the blocking and the asynchronous
    /// path. An explicit flush is MailKit's (it then waits for a reply); the other kind is a full buffer.
    /// </summary>
    private int Take(bool explicitFlush)
    {
        var count = _count;
        _count = 0; // whatever happens next, these bytes are not offered again
        var bytes = _pending.AsSpan(0, count);
        switch (State)
        {
            case Phase.Abandoned:
                throw Abandoned();
            case Phase.DataSent:
                if (explicitFlush && bytes.SequenceEqual(DataCommand))
                {
                    State = Phase.Content; // already sent with the envelope: MailKit reads its reply
                    _tailLength = 0;
                    return 0;
                }
                State = Phase.Abandoned;
                throw Abandoned();
            case Phase.Content:
                if (explicitFlush && _tailLength == 0 && bytes.SequenceEqual(ResetCommand))
                {
                    State = Phase.Commands; // the server refused DATA; no content was written
                    return count;
                }
                RememberTail(bytes);
                if (explicitFlush && _tailLength == EndOfData.Length && _tail.AsSpan().SequenceEqual(EndOfData))
                {
                    State = Phase.Commands;
                }
                return count;
            default:
                if (!explicitFlush)
                {
                    PipelineData = false; // 64 KB of commands is nothing MailKit sends: stop guessing
                    return count;
                }
                if (PipelineData && IsEnvelope(bytes) && count + DataCommand.Length <= Capacity)
                {
                    DataCommand.CopyTo(_pending.AsSpan(count));
                    State = Phase.DataSent;
                    return count + DataCommand.Length;
                }
                if (bytes.EndsWith(DataCommand))
                {
                    State = Phase.Content; // MailKit's own DATA (not pipelined)
                    _tailLength = 0;
                }
                return count;
        }
    }

    private IOException Abandoned() =>
        new("the SMTP session was abandoned: the server has a DATA command the client did not expect (every recipient refused?)");

    private void RememberTail(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= _tail.Length)
        {
            bytes[^_tail.Length..].CopyTo(_tail);
            _tailLength = _tail.Length;
            return;
        }
        var keep = Math.Min(_tailLength, _tail.Length - bytes.Length);
        _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
        bytes.CopyTo(_tail.AsSpan(keep));
        _tailLength = keep + bytes.Length;
    }

    /// <summary>One <c>MAIL FROM</c> line followed by one or more <c>RCPT TO</c> lines, nothing else.</summary>
    private static bool IsEnvelope(ReadOnlySpan<byte> bytes)
    {
        var lines = 0;
        while (bytes.Length > 0)
        {
            var end = bytes.IndexOf("\r\n"u8);
            if (end < 0)
            {
                return false;
            }
            var line = bytes[..end];
            if (!(lines == 0 ? line.StartsWith("MAIL FROM:"u8) : line.StartsWith("RCPT TO:"u8)))
            {
                return false;
            }
            lines++;
            bytes = bytes[(end + 2)..];
        }
        return lines >= 2;
    }

    private void Send(int count)
    {
        try
        {
            var sent = 0;
            while (sent < count)
            {
                sent += socket.Send(_pending.AsSpan(sent, count - sent));
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
        {
            throw new TimeoutException("The SMTP server did not take the data in time.", ex);
        }
    }

    private async Task SendAsync(int count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }
        using var timeout = WriteTimeout == Timeout.Infinite ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout?.CancelAfter(WriteTimeout);
        try
        {
            var sent = 0;
            while (sent < count)
            {
                sent += await socket.SendAsync(_pending.AsMemory(sent, count - sent), SocketFlags.None, timeout?.Token ?? cancellationToken);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("The SMTP server did not take the data in time.", ex);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            socket.Dispose();
        }
        base.Dispose(disposing);
    }
}
