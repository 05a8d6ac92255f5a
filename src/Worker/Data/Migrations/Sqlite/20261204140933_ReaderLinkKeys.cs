using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Newsletter.Worker.Data.Migrations.Sqlite
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
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "LinkKey",
                table: "Subscribers",
                type: "TEXT",
                fixedLength: true,
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTime>(
                name: "LinksRevokedAt",
                table: "Subscribers",
                type: "TEXT",
                nullable: true);

            // Readers already on the list: a random link key each, and their links that name row ids keep working.
            migrationBuilder.Sql("""
                UPDATE "Subscribers" SET "LinkKey" = lower(hex(randomblob(16))), "LegacyLinks" = 1;
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
