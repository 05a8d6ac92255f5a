using Microsoft.Extensions.Options;
using Newsletter.Worker.Delivery;

namespace Newsletter.Worker.Operations;

/// <summary>At the service's start, a pickup folder that cannot be written (a read-only data folder)
/// stops it with one line, instead of every message of the next send failing.</summary>
internal sealed class PickupFolderValidation : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options) =>
        options.Transport != TransportKind.Pickup || PickupFolder.Problem(Path.GetFullPath(options.PickupDirectory)) is not { } problem
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{DeliveryOptions.Section}:PickupDirectory: {problem}. Point it at a folder this user can write.");
}
