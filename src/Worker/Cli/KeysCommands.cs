using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers.Tokens;
using Newsletter.Worker.Links;

namespace Newsletter.Worker.Cli;

public static partial class NewsletterCli
{
    private const string TokenKeysSetting = "Newsletter:TokenKeys";

    private static Command KeysCommand(CliContext context)
    {
        var command = new Command("keys",
            "The keys that sign readers' links and bounce addresses: list them, add a newer one, retire an old one, move them into configuration.");
        command.Add(ListKeysCommand(context));
        command.Add(RotateKeysCommand(context));
        command.Add(RetireKeyCommand(context));
        command.Add(ExportKeysCommand(context));
        return command;
    }

    private static Command ExportKeysCommand(CliContext context)
    {
        var command = new Command("export",
            "Print the keys kept in the database as settings for the service's environment file, secrets included, " +
            "so they can be configured instead and links already sent keep working.");
        command.SetAction((parse, ct) => context.RunAsync(async (services, _) =>
        {
            var options = services.GetRequiredService<IOptions<LinkKeyOptions>>().Value;
            var (signing, hashKey) = services.GetRequiredService<StoredKeys>().Export();
            var lines = new List<string>();
            if (!options.SigningKeysConfigured)
            {
                var index = 0;
                foreach (var (id, secret, retired) in signing)
                {
                    // The single secret of before key ids is the key 'legacy': it is configured as TokenSecret.
                    if (id == SigningKeys.LegacyId)
                    {
                        lines.Add(retired ? "# Newsletter__TokenSecret is retired: leave it out" : $"Newsletter__TokenSecret={secret}");
                        continue;
                    }
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"Newsletter__TokenKeys__{index}__Id={id}"));
                    lines.Add(string.Create(CultureInfo.InvariantCulture, $"Newsletter__TokenKeys__{index}__Secret={secret}"));
                    if (retired)
                    {
                        lines.Add(string.Create(CultureInfo.InvariantCulture, $"Newsletter__TokenKeys__{index}__Retired=true"));
                    }
                    index++;
                }
            }
            if (string.IsNullOrEmpty(options.AddressHashKey) && hashKey is not null)
            {
                lines.Add($"Newsletter__AddressHashKey={hashKey}");
            }
            if (lines.Count == 0)
            {
                await context.Error.WriteLineAsync("No keys are kept in the database (they are configured, or none was made yet); nothing to export.");
                return 1;
            }
            await context.Out.WriteLineAsync("# Keys kept in the database, as settings. Secrets: put them in a private environment file, then restart.");
            foreach (var line in lines)
            {
                await context.Out.WriteLineAsync(line);
            }
            return 0;
        }, ct, audit: new(parse)));
        return command;
    }

    private static Command ListKeysCommand(CliContext context)
    {
        var command = new Command("list", "List the signing keys (never their secrets): which signs new links, which are retired, and where they live.");
        command.SetAction((parse, ct) => context.RunAsync(async (services, _) =>
        {
            var options = services.GetRequiredService<IOptions<LinkKeyOptions>>().Value;
            var configured = options.SigningKeysConfigured;
            var keys = configured ? ConfiguredListing(options) : services.GetRequiredService<StoredKeys>().List();
            await context.Out.WriteLineAsync(configured
                ? $"Signing keys are configured ({TokenKeysSetting}, Newsletter:TokenSecret):"
                : "Signing keys are kept in the database:");
            if (keys.Count == 0)
            {
                await context.Out.WriteLineAsync("  none yet: one is generated when the first link is signed");
            }
            foreach (var key in keys)
            {
                var state = key.Retired ? (key.RetiredAt is { } retired ? $"retired {Utc(retired)}" : "retired")
                    : key.Signs ? "signs new links"
                    : "checks links it signed";
                var created = key.CreatedAt is { } at ? $"added {Utc(at)}, " : "";
                var legacy = key.Id == SigningKeys.LegacyId ? " (also checks links from before key ids)" : "";
                await context.Out.WriteLineAsync($"  {key.Id,-8}  {created}{state}{legacy}");
            }
            await context.Out.WriteLineAsync(string.IsNullOrEmpty(options.AddressHashKey)
                ? "The address hash key is kept in the database."
                : "The address hash key is configured (Newsletter:AddressHashKey).");
            return 0;
        }, ct));
        return command;
    }

    private static IReadOnlyList<KeyListing> ConfiguredListing(LinkKeyOptions options)
    {
        var keys = new List<KeyListing>();
        if (!string.IsNullOrEmpty(options.TokenSecret))
        {
            keys.Add(new KeyListing(SigningKeys.LegacyId, null, false, null, false));
        }
        keys.AddRange(options.TokenKeys.Select(k => new KeyListing(k.Id!, null, k.Retired, null, false)));
        var signing = keys.LastOrDefault(k => !k.Retired);
        return [.. keys.Select(k => k == signing ? k with { Signs = true } : k)];
    }

    private static Command RotateKeysCommand(CliContext context)
    {
        var command = new Command("rotate",
            "Add a new signing key that signs every new link; links signed with older keys keep working until those are retired. " +
            "When keys are configured, prints a new key and the settings to add instead.");
        command.SetAction((parse, ct) => context.RunAsync(async (services, _) =>
        {
            var options = services.GetRequiredService<IOptions<LinkKeyOptions>>().Value;
            if (options.SigningKeysConfigured)
            {
                var index = options.TokenKeys.Count;
                var id = "k" + (options.TokenKeys.Select(k => k.Id is ['k', .. var n] && int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : 0)
                    .DefaultIfEmpty(0).Max() + 1).ToString(CultureInfo.InvariantCulture);
                var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
                await context.Out.WriteLineAsync($"Signing keys are configured, so nothing was stored. Add this key as the last of {TokenKeysSetting} on every instance, then restart them:");
                await context.Out.WriteLineAsync($"  Newsletter__TokenKeys__{index}__Id={id}");
                await context.Out.WriteLineAsync($"  Newsletter__TokenKeys__{index}__Secret={secret}");
                await context.Out.WriteLineAsync($"(in appsettings.json: \"TokenKeys\": [ …, {{ \"Id\": \"{id}\", \"Secret\": \"{secret}\" }} ] in the Newsletter section)");
                await context.Out.WriteLineAsync("Keep the older keys: links already emailed were signed with them. Retire one (\"Retired\": true) when its links may stop working.");
                return 0;
            }
            if (services.GetRequiredService<StoredKeys>().Rotate() is not { } added)
            {
                await context.Error.WriteLineAsync("Another process added a key at the same moment; run 'newsletter keys list' to see it.");
                return 1;
            }
            await context.Out.WriteLineAsync($"Added key {added}. It signs new links in processes started from now on: restart the running service. " +
                                             "Links signed with older keys keep working until you retire them (newsletter keys retire ID).");
            return 0;
        }, ct, DatabaseUse.MayCreate, audit: new(parse)));
        return command;
    }

    private static Command RetireKeyCommand(CliContext context)
    {
        var id = new Argument<string>("ID") { Description = "The key's id, as 'newsletter keys list' shows it." };
        var command = new Command("retire",
            "Retire a signing key: every link and bounce address it signed is refused from now on (in processes started after). " +
            "The key that signs new links cannot be retired; rotate first.") { id };
        command.SetAction((parse, ct) => context.RunAsync(async (services, _) =>
        {
            var key = parse.GetRequiredValue(id);
            var options = services.GetRequiredService<IOptions<LinkKeyOptions>>().Value;
            if (options.SigningKeysConfigured)
            {
                var index = options.TokenKeys.FindIndex(k => k.Id == key);
                await context.Error.WriteLineAsync(key == SigningKeys.LegacyId && !string.IsNullOrEmpty(options.TokenSecret)
                    ? "Signing keys are configured: retire 'legacy' by removing Newsletter:TokenSecret, then restart every instance."
                    : index >= 0
                        ? $"Signing keys are configured: retire '{key}' by setting {TokenKeysSetting}:{index}:Retired to true (Newsletter__TokenKeys__{index}__Retired=true), then restart every instance."
                        : $"There is no configured key '{key}'; 'newsletter keys list' shows them.");
                return 1;
            }
            var outcome = services.GetRequiredService<StoredKeys>().Retire(key);
            var (message, exit) = outcome switch
            {
                RetireOutcome.Retired => ($"Retired key {key}: links it signed are refused by processes started from now on; restart the running service.", 0),
                RetireOutcome.AlreadyRetired => ($"Key {key} was already retired.", 0),
                RetireOutcome.Signing => ($"Key {key} signs new links, so it cannot be retired: add a newer one first (newsletter keys rotate).", 1),
                _ => ($"There is no key '{key}'; 'newsletter keys list' shows them.", 1),
            };
            await (exit == 0 ? context.Out : context.Error).WriteLineAsync(message);
            return exit;
        }, ct, audit: new(parse)));
        return command;
    }
}
