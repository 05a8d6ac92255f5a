using Newsletter.Templates.Rendering;

namespace Newsletter.Tests.Templates;

public class MarkdownCheckTests
{
    [Fact]
    public void Clean_markdown_has_no_problems()
    {
        const string markdown = """
            ## Why it matters

            Rest is not a reward you earn. It is part of **how** we heal.

            - Read [our guide](https://steadyground.example.org/rest)
            - Write to us at <hello@steadyground.example.org> or [by email](mailto:hello@steadyground.example.org)
            - Visit https://steadyground.example.org

            ![A quiet bench in the park](https://steadyground.example.org/bench.jpg)

            Code like `<div>` in backticks is fine, and so are 3 < 5 and fish & chips.
            """;

        Assert.Empty(MarkdownCheck.FindProblems(markdown));
    }

    [Fact]
    public void A_block_of_raw_html_is_reported_on_its_line()
    {
        var problems = MarkdownCheck.FindProblems("First paragraph.\n\n<div class=\"box\">\nHello\n</div>\n\nLast.");

        var problem = Assert.Single(problems);
        Assert.Equal(3, problem.Line);
        Assert.StartsWith("raw HTML is not allowed in an issue: `<div class=\"box\">`", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_div_is_quoted_as_the_editor_wrote_it()
    {
        var problem = Assert.Single(MarkdownCheck.FindProblems("<div>Hello</div>"));

        Assert.Equal(1, problem.Line);
        Assert.StartsWith("raw HTML is not allowed in an issue: `<div>`", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inline_raw_html_is_reported_on_its_line()
    {
        var problems = MarkdownCheck.FindProblems("One calm line\nand a <span style=\"color:red\">loud</span> one.");

        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Equal(2, p.Line));
        Assert.StartsWith("raw HTML is not allowed in an issue: `<span style=\"color:red\">`", problems[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("raw HTML is not allowed in an issue: `</span>`", problems[1].Message, StringComparison.Ordinal);
    }

    /// <summary>One problem each: (what it is, the Markdown, the line it is on, how its message starts).</summary>
    public static TheoryData<string, string, int, string> SingleProblems() => new()
    {
        { "an image without alt text", "Intro.\n\nMore.\n\n![](https://steadyground.example.org/walk.jpg)", 5, "image has no alt text" },
        { "a relative link", "Line one.\nSee [the archive](/archive/2026) for more.", 2, "link is not absolute: `/archive/2026`" },
        { "a javascript link", "# Hello\n\n\n[click me](javascript:alert(1))", 4, "link is not absolute: `javascript:alert(1)`" },
        { "an empty link", "A [link to nowhere]() here.", 1, "link is not absolute: ``" },
        { "a relative image", "Text.\n\n![Sunrise over the lake](images/sunrise.jpg)", 3, "image link is not absolute: `images/sunrise.jpg`" },
    };

    [Theory]
    [MemberData(nameof(SingleProblems))]
    public void A_problem_is_reported_on_its_line(string what, string markdown, int line, string messageStart)
    {
        var problem = Assert.Single(MarkdownCheck.FindProblems(markdown));

        Assert.Equal(line, problem.Line);
        Assert.True(problem.Message.StartsWith(messageStart, StringComparison.Ordinal), $"{what}: {problem.Message}");
    }

    [Fact]
    public void Problems_in_a_list_are_reported_in_order_with_their_lines()
    {
        const string markdown = """
            Some things to try:

            - Take a [short walk](walk.html)
            - Look at ![](https://steadyground.example.org/sky.jpg)
            - Say <b>no</b> to one thing
            """;

        var problems = MarkdownCheck.FindProblems(markdown);

        Assert.Equal([3, 4, 5, 5], problems.Select(p => p.Line));
        Assert.Contains("walk.html", problems[0].Message, StringComparison.Ordinal);
        Assert.Contains("alt text", problems[1].Message, StringComparison.Ordinal);
        Assert.Contains("`<b>`", problems[2].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_html_comment_counts_as_raw_html()
    {
        var problem = Assert.Single(MarkdownCheck.FindProblems("Hello.\n\n<!-- note to self -->"));

        Assert.Equal(3, problem.Line);
        Assert.Contains("raw HTML is not allowed", problem.Message, StringComparison.Ordinal);
    }
}
