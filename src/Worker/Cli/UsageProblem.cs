using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Newsletter.Worker.Cli;

/// <summary>Turns the parser's errors into the one line an editor can act on: what was not
/// understood, and the nearest thing that would have been.</summary>
internal static class UsageProblem
{
    public static string Describe(ParseResult parsed)
    {
        var result = parsed.CommandResult;
        var command = result.Command;
        var path = CommandPath(result);
        // An error a value's own parser wrote (e.g. "'abc' is not an issue id") is already the clearest.
        if (parsed.Errors.FirstOrDefault(e => e.SymbolResult is ArgumentResult or OptionResult && e.SymbolResult.Tokens.Count > 0) is { } valueError)
        {
            return valueError.Message;
        }
        if (parsed.UnmatchedTokens.FirstOrDefault() is { } unmatched)
        {
            if (unmatched.StartsWith('-'))
            {
                var names = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name));
                return $"unknown option '{unmatched}' for '{path}'{Suggest(unmatched, names)}";
            }
            if (command.Subcommands.Count > 0)
            {
                var where = command is RootCommand ? "" : $" for '{path}'";
                return $"unknown command '{unmatched}'{where}{Suggest(unmatched, command.Subcommands.Select(c => c.Name))}";
            }
            return $"'{path}' does not take '{unmatched}'";
        }
        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            return $"'{path}' needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}";
        }
        if (command.Arguments.FirstOrDefault(a => a.Arity.MinimumNumberOfValues > 0 && result.GetResult(a) is not { Tokens.Count: > 0 }) is { } argument)
        {
            return $"'{path}' needs {argument.Name}: {argument.Description}";
        }
        if (command.Options.FirstOrDefault(o => o.Required && result.GetResult(o) is null or { Implicit: true }) is { } option)
        {
            return $"'{path}' needs {option.Name}: {option.Description}";
        }
        return parsed.Errors[0].Message;
    }

    /// <summary>"newsletter issues show": the words that led to <paramref name="result"/>.</summary>
    public static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Add(c.Command is RootCommand ? "newsletter" : c.Command.Name);
            }
        }
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>" — did you mean 'x'?" for the closest candidate a typo away; nothing when none is close.</summary>
    public static string Suggest(string typed, IEnumerable<string> candidates)
    {
        var best = candidates
            .Select(c => (Name: c, Distance: Distance(typed.ToLowerInvariant(), c.ToLowerInvariant())))
            .Where(c => c.Distance <= Math.Max(1, Math.Min(3, c.Name.Length / 3)))
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.Name is null ? "" : $" — did you mean '{best.Name}'?";
    }

    /// <summary>Levenshtein distance, with a swap of two neighbours counted as one edit.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }

    /// <summary>An id argument whose bad value is named in the editor's words, not as a .NET type.</summary>
    public static Argument<int> IdArgument(string what, string listCommand) => new("ID")
    {
        Description = $"The {what}'s id (see '{listCommand}').",
        CustomParser = r =>
        {
            var token = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                return id;
            }
            r.AddError($"'{token}' is not {Article(what)} {what} id (a whole number, see '{listCommand}')");
            return 0;
        },
    };

    /// <summary>A count option whose bad value is named plainly.</summary>
    public static Option<int> CountOption(string name, string description, int defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            var token = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
            {
                return n;
            }
            r.AddError($"{name}: '{token}' is not a whole number above 0");
            return defaultValue;
        },
    };

    private static string Article(string word) => "aeiou".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";
}
