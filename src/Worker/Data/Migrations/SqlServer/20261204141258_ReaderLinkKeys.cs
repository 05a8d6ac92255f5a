using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Newsletter.Worker.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class ReaderLinkKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "LegacyLinks",
                table: "Subscribers",
                type: "bit",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "LinkKey",
                table: "Subscribers",
                type: "nchar(32)",
                fixedLength: true,
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTime>(
                name: "LinksRevokedAt",
                table: "Subscribers",
                type: "datetime2",
                nullable: true);

            // Readers already on the list: a random link key each (NEWID is drawn per row), and their links that name row ids keep working.
            migrationBuilder.Sql("""
                UPDATE [Subscribers] SET [LinkKey] = LOWER(REPLACE(CONVERT(varchar(36), NEWID()), '-', '')), [LegacyLinks] = CAST(1 AS bit);
                """);

            migrationBuilder.CreateIndex(
                name: "IX_Subscribers_LinkKey",
                table: "Subscribers",
                column: "LinkKey",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Subscribers_LinkKey",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "LegacyLinks",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "LinkKey",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "LinksRevokedAt",
                table: "Subscribers");
        }
    }
}
