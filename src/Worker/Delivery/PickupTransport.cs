using Microsoft.Extensions.Options;
using MimeKit;

namespace Newsletter.Worker.Delivery;

/// <summary>
/// Writes each message as an .eml file into a folder (the embedded default). A message is
/// written under a temporary name and renamed into place, so a reader of the folder never sees
/// half a message and a crash leaves at most a stray temporary file.
/// </summary>
public sealed class PickupTransport(IOptions<DeliveryOptions> options) : IMailTransport
{
    public string Directory => Path.GetFullPath(options.Value.PickupDirectory);

    public Task<IMailConnection> OpenAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        return Task.FromResult<IMailConnection>(new Connection(Directory));
    }

    private sealed class Connection(string directory) : IMailConnection
    {
        public bool IsOpen => true;

        public async Task<SendResult> SendAsync(
            MimeMessage message, MailboxAddress envelopeFrom, MailboxAddress envelopeTo, CancellationToken cancellationToken)
        {
            var name = $"{Guid.CreateVersion7():N}";
            var temporary = Path.Combine(directory, name + ".tmp");
            var final = Path.Combine(directory, name + ".eml");
            try
            {
                await using (var stream = File.Create(temporary))
                {
                    await message.WriteToAsync(FormatOptions.Default, stream, cancellationToken);
                }
                File.Move(temporary, final);
                return SendResult.Accepted($"250 written to {name}.eml");
            }
            catch (IOException ex)
            {
                File.Delete(temporary);
                return new SendResult(SendStatus.TemporaryFailure, 451, "4.3.0", $"451 4.3.0 cannot write to the pickup folder: {ex.Message}");
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
