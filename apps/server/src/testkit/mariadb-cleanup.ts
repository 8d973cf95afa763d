// Vitest setup file of the `mariadb` project: each test file drops the databases it made once it is done.
import { afterAll } from "vitest";
import { dropDatabases } from "../testing/mariadb.js";

afterAll(() => dropDatabases());
