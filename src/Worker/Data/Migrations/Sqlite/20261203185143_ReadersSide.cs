using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Newsletter.Worker.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ReadersSide : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CrisisRegion",
                table: "Subscribers",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "PausedUntil",
                table: "Subscribers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ArchiveKey",
                table: "Issues",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "InArchive",
                table: "Issues",
                type: "INTEGER",
                nullable: false,
                // Issues published before the archive existed belong in it.
                defaultValue: true);

            migrationBuilder.CreateIndex(
                name: "IX_Issues_Edition_ArchiveKey",
                table: "Issues",
                columns: new[] { "Edition", "ArchiveKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Issues_Edition_ArchiveKey",
                table: "Issues");

            migrationBuilder.DropColumn(
                name: "CrisisRegion",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "PausedUntil",
                table: "Subscribers");

            migrationBuilder.DropColumn(
                name: "ArchiveKey",
                table: "Issues");

            migrationBuilder.DropColumn(
                name: "InArchive",
                table: "Issues");
        }
    }
}
