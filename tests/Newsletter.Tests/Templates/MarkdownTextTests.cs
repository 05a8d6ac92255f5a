using Newsletter.Templates.Rendering;

namespace Newsletter.Tests.Templates;

public class MarkdownTextTests
{
    [Fact]
    public void A_bulleted_list_becomes_dashed_lines()
    {
        var text = EmailMarkdown.ToPlainText("Small things that help:\n\n* A glass of water\n* An open window\n+ A slow breath");

        Assert.Equal("Small things that help:\n\n- A glass of water\n- An open window\n\n- A slow breath", text);
    }

    [Fact]
    public void A_numbered_list_keeps_its_numbers()
    {
        var text = EmailMarkdown.ToPlainText("3. Notice\n4. Name it\n5. Let it pass");

        Assert.Equal("3. Notice\n4. Name it\n5. Let it pass", text);
    }

    [Fact]
    public void A_nested_list_is_indented_under_its_item()
    {
        var text = EmailMarkdown.ToPlainText("- Morning\n  - Stretch\n  - Drink water\n- Evening");

        Assert.Equal("- Morning\n  - Stretch\n  - Drink water\n- Evening", text);
    }

    [Fact]
    public void A_link_is_written_as_its_words_followed_by_the_address()
    {
        var text = EmailMarkdown.ToPlainText("Read [our guide to rest](https://steadyground.example.org/rest) when you can.");

        Assert.Equal("Read our guide to rest (https://steadyground.example.org/rest) when you\ncan.", text);
    }

    [Fact]
    public void A_bare_address_is_written_once()
    {
        var text = EmailMarkdown.ToPlainText("Find us at https://steadyground.example.org and <https://steadyground.example.org/help>.");

        Assert.Equal("Find us at https://steadyground.example.org and\nhttps://steadyground.example.org/help.", text);
    }

    [Fact]
    public void A_heading_becomes_its_words_followed_by_a_blank_line()
    {
        var text = EmailMarkdown.ToPlainText("## Why it matters\nBecause you matter.\n\n### One more thing\n\nRest counts.");

        Assert.Equal("Why it matters\n\nBecause you matter.\n\nOne more thing\n\nRest counts.", text);
    }

    [Fact]
    public void Emphasis_is_stripped_and_the_words_kept()
    {
        var text = EmailMarkdown.ToPlainText("You are **not** behind. You are *here*, and ~~that is~~ that's `enough`.");

        Assert.Equal("You are not behind. You are here, and that is that's enough.", text);
    }

    [Fact]
    public void Long_paragraphs_are_wrapped_at_seventy_two_characters()
    {
        var markdown = string.Join(' ', Enumerable.Repeat("Slow mornings can be a quiet act of care.", 8));

        var lines = EmailMarkdown.ToPlainText(markdown).Split('\n');

        Assert.True(lines.Length > 3);
        Assert.All(lines, line => Assert.InRange(line.Length, 1, EmailMarkdown.TextWidth));
        Assert.Equal(markdown, string.Join(' ', lines));
    }

    [Fact]
    public void A_quote_keeps_its_marker_on_every_line()
    {
        var text = EmailMarkdown.ToPlainText("> Healing is not a straight line, and nobody expects it to be, least of all the people who love you.");

        Assert.All(text.Split('\n'), line => Assert.StartsWith("> ", line, StringComparison.Ordinal));
    }

    [Fact]
    public void A_hard_line_break_is_kept()
    {
        var text = EmailMarkdown.ToPlainText("Breathe in,  \nbreathe out.");

        Assert.Equal("Breathe in,\nbreathe out.", text);
    }

    [Fact]
    public void An_image_becomes_its_description()
    {
        var text = EmailMarkdown.ToPlainText("![A mug of tea by a rainy window](https://steadyground.example.org/tea.jpg)");

        Assert.Equal("[Image: A mug of tea by a rainy window]", text);
    }

    [Fact]
    public void Html_from_markdown_never_contains_raw_html()
    {
        var html = EmailMarkdown.ToHtml("<div onclick=\"x()\">Hello</div>\n\nand <span>inline</span> too");

        Assert.DoesNotContain("<div", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<span", html, StringComparison.Ordinal);
        Assert.Contains("&lt;div", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_from_markdown_turns_bare_addresses_into_links_and_keeps_lists()
    {
        var html = EmailMarkdown.ToHtml("- Visit https://steadyground.example.org\n- Rest");

        Assert.Contains("<a href=\"https://steadyground.example.org\">https://steadyground.example.org</a>", html, StringComparison.Ordinal);
        Assert.Contains("<li>Rest</li>", html, StringComparison.Ordinal);
    }
}
